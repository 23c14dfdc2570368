import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpServerFactory } from './mcp-server.factory.js';

/** Serves the same tool table over stdin/stdout; the local user is the caller. Resolves when stdin closes. */
export async function serveStdio(factory: McpServerFactory): Promise<void> {
  const server = factory.create({ principal: { name: 'stdio', scope: 'admin', via: 'stdio' } });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
