import { NoRateLimit } from '../../security/rate-limit.guard.js';
import { All, Controller, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { jsonRpcError } from '../../common/http/json-rpc-error.js';

/**
 * What /mcp answers besides POST (which McpHttpEndpoint serves): this server runs stateless Streamable HTTP, so
 * there is no server-initiated stream (GET) and no session to end (DELETE).
 */
@ApiExcludeController()
// protocol messages are not tool calls: the rate limit counts tools/call only
@NoRateLimit()
@Controller('mcp')
export class McpHttpController {
  @All()
  @HttpCode(405)
  other(@Res({ passthrough: true }) res: Response): object {
    res.setHeader('Allow', 'POST');
    return jsonRpcError(
      -32000,
      'Method not allowed: this server runs stateless Streamable HTTP (POST only).',
    );
  }
}
