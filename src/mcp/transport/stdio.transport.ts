import {
  ProtocolError,
  ProtocolErrorCode,
  type JSONRPCMessage,
  type Tool,
} from '@modelcontextprotocol/server';
import { serveStdio as serveSdkStdio } from '@modelcontextprotocol/server/stdio';
import type { ManifestTool } from '../tool-manifest.js';
import type { ServerInfo } from '../server-info.js';
import type { McpServerFactory } from './mcp-server.factory.js';
import { buildMcpServer, type McpToolHandlers } from './mcp-server.js';
import { deferredCatalog } from './mcp-catalog-wire.js';
import { BOOT_AFTER_IDLE_MS, STDIO_PRINCIPAL, type StdioOpening } from './stdio-opener.js';
import { TaskListenStdioTransport, type TaskListenStdioOptions } from './stdio-task-listen.js';

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
  /** What the stdio opener (stdio-opener.ts) answered before the SDK was loaded, and the rest of stdin. */
  opening?: StdioOpening;
}

/**
 * The stdio fast start: the SDK server answers the opening (`initialize` or `server/discover`, ping,
 * logging/setLevel) itself and tools/list from the manifest, so a client sees the tools without waiting for
 * Nest, TypeORM and every module. The application starts right after that first answer; tools/call waits for it
 * and then runs through the application's own handler (McpServerFactory.handlers), exactly as in `serveStdio`.
 * With `opening`, the stdio opener answered the start of a 2025-era opening already (stdio-opener.ts): the SDK
 * reads its hand-over stream instead of stdin, and the application starts once the SDK has caught up with the
 * replayed opening when the opener answered tools/list (or gave up waiting for it).
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
  const afterSend = (message: JSONRPCMessage) => {
    // the tools/list answer, not another one written after the handler ran (an initialize answered in the same
    // read would otherwise start the boot before the tools/list answer is written)
    if (!bootAfterSend || !isToolsListAnswer(message)) return;
    bootAfterSend = false;
    void startApp().catch(() => undefined);
  };
  const { opening } = options;
  // the opener answered tools/list already, or waited for it long enough: the application starts once the SDK has
  // caught up with the opening (its answers to the replayed requests), as it would right after that answer
  const bootNow = opening?.end === 'listed' || opening?.end === 'idle';
  const boot = () => void startApp().catch(() => undefined);
  const idleTimer = bootNow ? undefined : setTimeout(boot, BOOT_AFTER_IDLE_MS);
  if (bootNow && opening.answered.size === 0) setImmediate(boot);
  try {
    await serveUntilClosed(() => buildMcpServer(options.info, handlers), handlers, bootFailed, {
      afterSend,
      input: opening?.input,
      answered: opening?.answered,
      afterReplay: bootNow ? boot : undefined,
      warn: options.warn,
    });
  } finally {
    clearTimeout(idleTimer);
    opening?.release();
  }
  // stdin closed: an application still starting is awaited so that the caller can close it
  if (booting) await booting.catch(() => undefined);
}

/** Runs the SDK's stdio entry until stdin ends (or `abort` rejects, which closes it and rethrows). */
async function serveUntilClosed(
  factory: Parameters<typeof serveSdkStdio>[0],
  handlers: McpToolHandlers,
  abort?: Promise<never>,
  transport: TaskListenStdioOptions = {},
): Promise<void> {
  const input = transport.input ?? process.stdin;
  const closed = new Promise<void>((resolve) => {
    input.once('end', () => resolve());
    input.once('close', () => resolve());
  });
  // task listens (subscriptions/listen with taskIds) are served in front of the SDK's entry
  const handle = serveSdkStdio(factory, {
    legacy: 'serve',
    transport: new TaskListenStdioTransport(handlers, transport),
  });
  try {
    await (abort ? Promise.race([closed, abort]) : closed);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function isToolsListAnswer(message: JSONRPCMessage): boolean {
  const result = (message as { result?: { tools?: unknown } }).result;
  return Array.isArray(result?.tools);
}
