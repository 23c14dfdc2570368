import { Injectable, type NestMiddleware } from '@nestjs/common';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Request, Response } from 'express';
import { refuseApprovalTokenInQuery } from '../../security/approvals/approval.guard.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { McpServerFactory } from './mcp-server.factory.js';
import { jsonRpcPrecheck } from './json-rpc-precheck.js';

/**
 * `POST /mcp`, Streamable HTTP, stateless: every POST gets its own SDK server and transport, so any replica can
 * answer any request and nothing is lost on restart. Mounted as the route's middleware (McpModule), not as a
 * controller method: the message is transport, and the guards, interceptors and pipes run once for each
 * tools/call it carries (ToolInvoker), not a second time around the whole request. The HTTP middlewares before
 * it have checked Host/Origin and authenticated the caller.
 */
@Injectable()
export class McpHttpEndpoint implements NestMiddleware {
  constructor(private readonly factory: McpServerFactory) {}

  async use(req: Request & { principal?: Principal }, res: Response): Promise<void> {
    refuseApprovalTokenInQuery(req.query);
    const refused = jsonRpcPrecheck(req.body);
    if (refused) {
      res.status(refused.status).json(refused.error);
      return;
    }
    const server = this.factory.create({ principal: req.principal, ip: req.ip });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }
}
