import { NoRateLimit } from '../../security/rate-limit.guard.js';
import { All, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Request, Response } from 'express';
import { jsonRpcError } from '../../common/http/json-rpc-error.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { McpServerFactory } from './mcp-server.factory.js';
import { jsonRpcPrecheck } from './json-rpc-precheck.js';

/**
 * Streamable HTTP at /mcp, stateless: every POST gets its own SDK server and transport, so any replica can
 * answer any request and nothing is lost on restart. The API-key middleware has already authenticated the
 * request; Host/Origin checks run before it (host-origin.middleware.ts).
 */
@ApiExcludeController()
// the rate limit counts tools/call (each tool call passes the global guard); protocol messages are not tool calls
@NoRateLimit()
@Controller('mcp')
export class McpHttpController {
  constructor(private readonly factory: McpServerFactory) {}

  @Post()
  async post(@Req() req: Request & { principal?: Principal }, @Res() res: Response): Promise<void> {
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

  /** GET (server-initiated stream) and DELETE (end session) only exist with sessions. */
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
