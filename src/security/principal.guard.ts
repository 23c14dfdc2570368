import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '../common/tools/tool-definition.js';
import { PUBLIC_PATHS } from './api-key.middleware.js';

/**
 * Global guard, identical on REST and MCP: nothing runs without a caller identity. It does not authenticate: the
 * API-key middleware does that once per HTTP request (the stdio transport has its fixed local principal); this is
 * the last line if a route ever escapes the middleware. It runs once per REST request and once per tool call
 * (POST /mcp and POST /{tool} are route middleware outside the guard chain); ToolAccessGuard's scope and key
 * limits read the same principal.
 */
@Injectable()
export class PrincipalGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ principal?: Principal; path?: string }>();
    if (context.getType() === 'http' && PUBLIC_PATHS.has(request.path ?? '')) return true;
    if (!request.principal) throw new UnauthorizedException('Missing API key');
    return true;
  }
}
