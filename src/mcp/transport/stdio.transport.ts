import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, ListToolsRequestSchema, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { CheckedCallToolRequestSchema } from './call-tool-request.js';
import type { ManifestTool } from '../tool-manifest.js';
import { SERVER_CAPABILITIES, SERVER_INSTRUCTIONS, serverIdentity, type ServerInfo } from '../server-info.js';
import type { McpServerFactory, McpToolHandlers } from './mcp-server.factory.js';

/** The local user of a stdio server: whoever started the process. */
export const STDIO_PRINCIPAL: Principal = { name: 'stdio', scope: 'admin', via: 'stdio' };

/** How long the fast start waits for tools/list before it starts the application anyway. */
const BOOT_AFTER_IDLE_MS = 100;

/** Serves the same tool table over stdin/stdout; the local user is the caller. Resolves when stdin closes. */
export async function serveStdio(factory: McpServerFactory): Promise<void> {
  const server = factory.create({ principal: STDIO_PRINCIPAL });
  await runUntilClosed(server);
}

export interface FastStdioOptions {
  info: ServerInfo;
  /** tools/list for the stdio caller from the build-time manifest, filtered as the application would. */
  tools: ManifestTool[];
  /** Loads and initialises the application; called once, after the first tools/list or a short idle. */
  boot: () => Promise<McpServerFactory>;
  /** Written to stderr when the booted application lists other tools than the manifest did. */
  warn: (message: string) => void;
}

/**
 * The stdio fast start: the SDK server answers `initialize` (and ping, logging/setLevel) itself and tools/list
 * from the manifest, so a client sees the tools without waiting for Nest, TypeORM and every module. The
 * application starts right after that first answer; tools/call waits for it and then runs through the
 * application's own handler (McpServerFactory.handlers), exactly as in `serveStdio`. Rejects (after closing the
 * server, so the process can exit) when the application fails to start.
 */
export async function serveStdioFast(options: FastStdioOptions): Promise<void> {
  const server = new Server(serverIdentity(options.info), {
    capabilities: SERVER_CAPABILITIES,
    instructions: SERVER_INSTRUCTIONS,
  });
  let live: McpToolHandlers | undefined;
  let booting: Promise<McpToolHandlers> | undefined;
  let failed: ((error: unknown) => void) | undefined;
  const bootFailed = new Promise<never>((_, reject) => (failed = reject));
  bootFailed.catch(() => undefined);
  const manifestTools = options.tools as Tool[];

  const startApp = (): Promise<McpToolHandlers> => {
    clearTimeout(idleTimer);
    booting ??= options.boot().then(
      (factory) => {
        live = factory.handlers({ principal: STDIO_PRINCIPAL });
        const served = JSON.stringify(options.tools);
        if (JSON.stringify(live.listTools().tools) !== served) {
          options.warn('the build-time tool manifest differs from the running tool table: run npm run build');
        }
        return live;
      },
      (error: unknown) => {
        failed?.(error);
        throw new McpError(ErrorCode.InternalError, 'The server failed to start; its stderr says why.');
      },
    );
    return booting;
  };

  server.setRequestHandler(ListToolsRequestSchema, () => {
    if (live) return live.listTools();
    // after this answer is written (the SDK sends it a few microtasks later), not before
    if (!booting) setImmediate(() => void startApp().catch(() => undefined));
    return { tools: manifestTools };
  });
  server.setRequestHandler(CheckedCallToolRequestSchema, async (request, extra) =>
    (live ?? (await startApp())).callTool(request, extra),
  );

  const idleTimer = setTimeout(() => void startApp().catch(() => undefined), BOOT_AFTER_IDLE_MS);
  try {
    await Promise.race([runUntilClosed(server), bootFailed]);
  } catch (error) {
    await server.close().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(idleTimer);
  }
  // stdin closed: an application still starting is awaited so that the caller can close it
  if (booting) await booting.catch(() => undefined);
}

async function runUntilClosed(server: Server): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
