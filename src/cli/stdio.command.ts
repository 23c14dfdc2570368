import type { AppConfig } from '../config/app-config.js';
import { createApp } from '../app.setup.js';
import { McpServerFactory } from '../mcp/transport/mcp-server.factory.js';
import { serveStdio } from '../mcp/transport/stdio.transport.js';

/** MCP over stdin/stdout: the same application and tool table, without an HTTP listener. */
export async function runStdio(config: AppConfig): Promise<number> {
  const { app } = await createApp(config);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await serveStdio(app.get(McpServerFactory));
  await app.close();
  return 0;
}
