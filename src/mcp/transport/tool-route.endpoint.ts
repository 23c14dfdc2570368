import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { Request, Response } from 'express';
import { refuseApprovalTokenInQuery } from '../../security/approvals/approval.guard.js';
import { ToolInvoker } from '../registry/tool-invoker.js';
import type { Principal } from '../../common/tools/tool-definition.js';

/**
 * `POST /{tool_name}` with flat arguments: the reference project's REST surface, for existing scripts. It runs
 * the tool exactly as MCP does, and like `POST /mcp` it is route middleware (McpModule), so the guards,
 * interceptors and pipes run once, for the tool call, not also around the wrapper request. Errors become JSON
 * with the right status through the global filter. Documented per tool by the OpenAPI patcher.
 */
@Injectable()
export class ToolRouteEndpoint implements NestMiddleware {
  constructor(private readonly invoker: ToolInvoker) {}

  async use(req: Request<{ tool: string }> & { principal?: Principal }, res: Response): Promise<void> {
    refuseApprovalTokenInQuery(req.query);
    const outcome = await this.invoker.call(req.params.tool, req.body ?? {}, {
      headers: req.headers,
      ip: req.ip,
      principal: req.principal,
    });
    if (!outcome.ok) throw outcome.error;
    res.status(200).json(outcome.structured);
  }
}
