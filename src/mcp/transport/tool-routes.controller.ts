import { NoRateLimit } from '../../security/rate-limit.guard.js';
import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request } from 'express';
import { ToolInvoker } from '../registry/tool-invoker.js';
import type { Principal } from '../../common/tools/tool-definition.js';

/**
 * The reference project's REST surface: POST /{tool_name} with flat arguments, for existing scripts. It runs
 * the tool exactly as MCP does; errors become JSON with the right status through the global filter.
 * Documented per tool by the OpenAPI patcher.
 */
// the tool call inside is what the rate limit counts (once), not this wrapper route
@NoRateLimit()
@Controller()
export class ToolRoutesController {
  constructor(private readonly invoker: ToolInvoker) {}

  @Post(':tool')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async call(
    @Param('tool') tool: string,
    @Body() body: unknown,
    @Req() req: Request & { principal?: Principal },
  ): Promise<Record<string, unknown>> {
    const outcome = await this.invoker.call(tool, body ?? {}, {
      headers: req.headers,
      ip: req.ip,
      principal: req.principal,
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.structured;
  }
}
