import { ProtocolError, ProtocolErrorCode, type Tool } from '@modelcontextprotocol/server';
import { serveStdio as serveSdkStdio } from '@modelcontextprotocol/server/stdio';
import type { Principal } from '../../common/tools/tool-definition.js';
import type { ManifestTool } from '../tool-manifest.js';
import type { ServerInfo } from '../server-info.js';
import type { McpServerFactory } from './mcp-server.factory.js';
import { buildMcpServer, type McpToolHandlers } from './mcp-server.js';
import { deferredCatalog } from './mcp-catalog-wire.js';
import { TaskListenStdioTransport } from './stdio-task-listen.js';

/** The local user of a stdio server: whoever started the process. */
export const STDIO_PRINCIPAL: Principal = { name: 'stdio', scope: 'admin', via: 'stdio' };

/**
 * How long the fast start waits for tools/list before it starts the application anyway. Loading the application
 * holds the event loop for a second or more (module evaluation is synchronous), so a boot begun between a client's
 * `initialize` and its `tools/list` would delay that answer by as much: clients send both at once, so a second is
 * ample, and one that never lists its tools only gets the application a second later.
 */
const BOOT_AFTER_IDLE_MS = 1000;

/**
 * Serves the same tool table over stdin/stdout; the local user is the caller. The SDK's stdio entry decides the
 * protocol era from the client's opening (2026-07-28 `server/discover` or a 2025-era `initialize`) and pins one
 * server for the connection. Resolves when stdin closes.
 */
export async function serveStdio(factory: McpServerFactory): Promise<void> {
  const caller = { principal: STDIO_PRINCIPAL };
  await serveUntilClosed(() => factory.create(caller), factory.handlers(caller));
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
 * The stdio fast start: the SDK server answers the opening (`initialize` or `server/discover`, ping,
 * logging/setLevel) itself and tools/list from the manifest, so a client sees the tools without waiting for
 * Nest, TypeORM and every module. The application starts right after that first answer; tools/call waits for it
 * and then runs through the application's own handler (McpServerFactory.handlers), exactly as in `serveStdio`.
 * Rejects (after closing the server, so the process can exit) when the application fails to start.
 */
export async function serveStdioFast(options: FastStdioOptions): Promise<void> {
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
        throw new ProtocolError(
          ProtocolErrorCode.InternalError,
          'The server failed to start; its stderr says why.',
        );
      },
    );
    return booting;
  };

  const handlers: McpToolHandlers = {
    ...deferredCatalog(async () => live ?? (await startApp())),
    listTools: () => {
      if (live) return live.listTools();
      // after this answer is written (the SDK sends it a few microtasks later), not before: loading the
      // application holds the event loop
      bootAfterSend = !booting;
      return { tools: manifestTools };
    },
    callTool: async (params, ctx) => (live ?? (await startApp())).callTool(params, ctx),
    getTask: async (taskId, ctx) => (live ?? (await startApp())).getTask(taskId, ctx),
    cancelTask: async (taskId, ctx) => (live ?? (await startApp())).cancelTask(taskId, ctx),
    verifyRequestState: async (state, ctx) => (live ?? (await startApp())).verifyRequestState(state, ctx),
    listenTasks: async (request, wire, signal) =>
      (live ?? (await startApp())).listenTasks(request, wire, signal),
  };

  let bootAfterSend = false;
  const afterSend = () => {
    if (!bootAfterSend) return;
    bootAfterSend = false;
    void startApp().catch(() => undefined);
  };
  const idleTimer = setTimeout(() => void startApp().catch(() => undefined), BOOT_AFTER_IDLE_MS);
  try {
    await serveUntilClosed(() => buildMcpServer(options.info, handlers), handlers, bootFailed, afterSend);
  } finally {
    clearTimeout(idleTimer);
  }
  // stdin closed: an application still starting is awaited so that the caller can close it
  if (booting) await booting.catch(() => undefined);
}

/** Runs the SDK's stdio entry until stdin ends (or `abort` rejects, which closes it and rethrows). */
async function serveUntilClosed(
  factory: Parameters<typeof serveSdkStdio>[0],
  handlers: McpToolHandlers,
  abort?: Promise<never>,
  afterSend?: () => void,
): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  // task listens (subscriptions/listen with taskIds) are served in front of the SDK's entry
  const handle = serveSdkStdio(factory, {
    legacy: 'serve',
    transport: new TaskListenStdioTransport(handlers, afterSend),
  });
  try {
    await (abort ? Promise.race([closed, abort]) : closed);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
