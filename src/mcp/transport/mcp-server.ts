import {
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type CallToolResult,
  type ListToolsResult,
  type Result,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import { SERVER_CAPABILITIES, SERVER_INSTRUCTIONS, serverIdentity, type ServerInfo } from '../server-info.js';
import { CHECKED_CALL_PARAMS, checkedCallParams, type CheckedCallParams } from './call-tool-request.js';
import { clientAcceptsTasks, TASK_ID_PARAMS, TASKS_EXTENSION } from './mcp-tasks.js';
import { registerCatalog, type McpCatalogHandlers } from './mcp-catalog-wire.js';
import type { ListenRequest, ListenWire } from './listen-wire.js';
import type { Principal } from '../../common/tools/tool-definition.js';

/** Who is calling, from the transport: the HTTP middlewares' principal and address, or the stdio user. */
export interface McpCallerContext {
  principal?: Principal;
  ip?: string;
  /** The HTTP request's headers as Node parsed them (the approval-token header); none on stdio. */
  headers?: Record<string, string | string[] | undefined>;
}

/** The methods one caller's server answers; create() installs them, the stdio fast start calls them once booted. */
export interface McpToolHandlers extends McpCatalogHandlers {
  listTools(): ListToolsResult;
  /** A tool result, or (a job, for a client that declared the Tasks extension) a task handle. */
  callTool(params: CheckedCallParams, ctx: ServerContext): Promise<CallToolResult>;
  /** tasks/get: the job as a Task (Tasks extension). */
  getTask(taskId: string, ctx: ServerContext): Promise<Result>;
  /** tasks/cancel: stop the job's PVE task; an empty acknowledgement. */
  cancelTask(taskId: string, ctx: ServerContext): Promise<Result>;
  /** The SDK's hook for a request state a client echoes back (elicitation approvals): decoded, or it throws. */
  verifyRequestState(state: string, ctx: ServerContext): Promise<unknown>;
  /** subscriptions/listen naming taskIds (task-listen.ts), on the transport's wire, until it ends or `signal`. */
  listenTasks(request: ListenRequest, wire: ListenWire, signal: AbortSignal): Promise<void>;
}

/** Serves task listens for a caller (TaskListen, registered with the factory at boot). */
export interface TaskListener {
  listen(
    request: ListenRequest,
    caller: McpCallerContext,
    wire: ListenWire,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Test-only additions to every server a factory builds (McpServerFactory.extend; the conformance fixture). */
export interface McpServerExtension {
  /** Wraps the caller's handlers (its own tools in tools/list and tools/call, its own request state). */
  handlers(handlers: McpToolHandlers): McpToolHandlers;
  /** Adds capabilities and request handlers to the new server, before it is connected. */
  install(server: Server): void;
}

/**
 * One JSON Schema validator for every per-request server: the SDK otherwise builds a new Ajv instance with all
 * its formats for each Server (~0.3 ms and a lot of garbage per stateless request, measured by `npm run bench`).
 */
export const sharedSchemaValidator = new AjvJsonSchemaValidator();

/**
 * The SDK's Server checks a tools/call request against its wire schema before any handler runs, and answers a
 * malformed one with a raw zod dump. Ours checks the params first and answers -32602 naming the field.
 */
class ToolServer extends Server {
  protected override _wrapHandler(
    method: string,
    handler: Parameters<Server['_wrapHandler']>[1],
  ): ReturnType<Server['_wrapHandler']> {
    if (method !== 'tools/call') return super._wrapHandler(method, handler);
    return async (request, ctx) => {
      checkedCallParams(request.params);
      // A task handle is not a CallToolResult, and the SDK checks the handler's result as one: the handle is
      // carried past that check (the SDK passes `resultType: "task"` through to the wire for tools/call).
      let task: Result | undefined;
      const run = super._wrapHandler(method, async (req, c) => {
        const result = await handler(req, c);
        if (result.resultType !== 'task') return result;
        task = result;
        return { content: [] };
      });
      try {
        const result = await run(request, ctx);
        return task ?? result;
      } catch (error) {
        throw readableWireError(error);
      }
    };
  }
}

/** The rest of params (`task`, `_meta` keys) as the SDK's wire schema refused them, said field by field. */
function readableWireError(error: unknown): unknown {
  if (!(error instanceof ProtocolError) || error.code !== ProtocolErrorCode.InvalidParams) return error;
  const dump = /^Invalid tools\/call request: (\[[\s\S]*\])$/.exec(error.message)?.[1];
  if (!dump) return error;
  try {
    const issues = JSON.parse(dump) as { path?: unknown[]; message?: string }[];
    const said = issues.map((i) => `${(i.path ?? []).map(String).join('.')}: ${i.message ?? 'invalid'}`);
    return new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid tools/call: ${said.join('; ')}`);
  } catch {
    return error;
  }
}

/**
 * The SDK's low-level Server with our two tool methods: the tool table is computed per caller from the registry
 * (McpServer's registerTool would rebuild schemas we already have). Used by the HTTP endpoint, stdio and the
 * stdio fast start, so every transport answers the same way. The same instance serves either protocol era.
 */
export function buildMcpServer(
  info: ServerInfo,
  handlers: McpToolHandlers,
  jsonSchemaValidator = sharedSchemaValidator,
): Server {
  const server = new ToolServer(serverIdentity(info), {
    capabilities: SERVER_CAPABILITIES,
    jsonSchemaValidator,
    instructions: SERVER_INSTRUCTIONS,
    requestState: { verify: (state, ctx) => handlers.verifyRequestState(state, ctx) },
  });
  server.setRequestHandler('tools/list', () => handlers.listTools());
  server.setRequestHandler('tools/call', { params: CHECKED_CALL_PARAMS }, (params, ctx) =>
    handlers.callTool(params, ctx),
  );
  // the Tasks extension's methods, for a client that declared it (a 2026-07-28 request without it: -32021)
  server.setRequestHandler('tasks/get', { params: TASK_ID_PARAMS }, ({ taskId }, ctx) => {
    requireTasksExtension(ctx);
    return handlers.getTask(taskId, ctx);
  });
  server.setRequestHandler('tasks/cancel', { params: TASK_ID_PARAMS }, ({ taskId }, ctx) => {
    requireTasksExtension(ctx);
    return handlers.cancelTask(taskId, ctx);
  });
  // our tasks never wait for input (approvals are asked before a task exists): a known task acknowledges and
  // ignores the responses, as the extension says of keys that are not outstanding
  server.setRequestHandler('tasks/update', { params: TASK_ID_PARAMS }, async ({ taskId }, ctx) => {
    requireTasksExtension(ctx);
    await handlers.getTask(taskId, ctx);
    return {};
  });
  // resources, resource templates, prompts and completion (mcp-catalog.ts)
  registerCatalog(server, handlers);
  return server;
}

/** A 2026-07-28 request for a tasks/* method must declare the extension; a 2025-era request has no envelope. */
function requireTasksExtension(ctx: ServerContext): void {
  if (ctx.mcpReq.envelope === undefined || clientAcceptsTasks(ctx)) return;
  throw new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    'Missing required client capability: declare the io.modelcontextprotocol/tasks extension to use tasks/*',
  );
}
