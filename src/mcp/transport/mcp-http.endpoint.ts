import { Injectable, Logger, type NestMiddleware, type OnModuleDestroy } from '@nestjs/common';
import { createMcpHandler, type AuthInfo, type McpHttpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler, type NodeMcpRequestHandler } from '@modelcontextprotocol/node';
import type { Request, Response } from 'express';
import { refuseApprovalTokenInQuery } from '../../security/approvals/approval.guard.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { McpServerFactory } from './mcp-server.factory.js';
import { jsonRpcPrecheck } from './json-rpc-precheck.js';
import { McpEventBus } from './mcp-event-bus.js';
import { DirectCallResponse, directToolCall } from './direct-tool-call.js';
import { TaskListen } from './task-listen.js';
import type { McpCallerContext } from './mcp-server.js';

/**
 * `POST /mcp`, Streamable HTTP, stateless, both protocol eras: the SDK's `createMcpHandler` answers 2026-07-28
 * requests (no handshake, `_meta` envelope, `server/discover`) and 2025-era `initialize` exchanges alike, each
 * from a fresh server built for this caller, so any replica can answer any request and nothing is lost on
 * restart. Mounted as the route's middleware (McpModule), not as a controller method: the message is transport,
 * and the guards, interceptors and pipes run once for each tools/call it carries (ToolInvoker), not a second
 * time around the whole request. The HTTP middlewares before it have checked Host/Origin and authenticated the
 * caller; the caller travels to the server factory as the SDK's pass-through `authInfo`.
 */
@Injectable()
export class McpHttpEndpoint implements NestMiddleware, OnModuleDestroy {
  private readonly logger = new Logger('McpHttpEndpoint');
  private readonly mcp: McpHttpHandler;
  private readonly handle: NodeMcpRequestHandler;

  constructor(
    private readonly factory: McpServerFactory,
    bus: McpEventBus,
    private readonly taskListen: TaskListen,
  ) {
    this.mcp = createMcpHandler(({ authInfo }) => factory.create(callerOf(authInfo)), {
      legacy: 'stateless',
      // subscriptions/listen hears changes from every replica (the job store's change feed)
      bus,
      onerror: (error) => this.logger.debug(`MCP request refused: ${error.message}`),
    });
    this.handle = toNodeHandler(this.mcp);
  }

  async use(req: Request & { principal?: Principal; auth?: AuthInfo }, res: Response): Promise<void> {
    refuseApprovalTokenInQuery(req.query);
    const refused = jsonRpcPrecheck(req.body);
    if (refused) {
      res.status(refused.status).json(refused.error);
      return;
    }
    // a listen for task status (Tasks extension): the SDK's listen router has no taskIds (task-listen.ts)
    if (this.taskListen.wants(req.body, req.headers)) {
      await this.taskListen.serve(req, res, { principal: req.principal, ip: req.ip, headers: req.headers });
      return;
    }
    const caller: McpCallerContext = { principal: req.principal, ip: req.ip, headers: req.headers };
    // the hot path: a plain 2025-era tools/call, straight to the handler (direct-tool-call.ts)
    const direct = directToolCall(req.body, req.headers, (tool) => this.factory.servesDirectly(tool));
    if (direct) {
      const answer = new DirectCallResponse(res, direct.id);
      try {
        answer.result(await this.factory.callTool(caller, direct.params, answer));
      } catch (error) {
        answer.error(error);
      }
      return;
    }
    req.auth = authInfoOf(caller);
    await this.handle(req, res, req.body);
  }

  async onModuleDestroy(): Promise<void> {
    await this.mcp.close();
  }
}

/**
 * The SDK carries `authInfo` untouched from the request to the server factory. Our caller rides in `extra`; the
 * token field is left empty on purpose (the API key never travels further than the middleware that checked it).
 */
function authInfoOf(caller: McpCallerContext): AuthInfo {
  return {
    token: '',
    clientId: caller.principal?.name ?? 'anonymous',
    scopes: caller.principal ? [caller.principal.scope] : [],
    extra: { caller },
  };
}

function callerOf(authInfo: AuthInfo | undefined): McpCallerContext {
  return (authInfo?.extra?.caller as McpCallerContext | undefined) ?? {};
}
