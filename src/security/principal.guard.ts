import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '../common/tools/tool-definition.js';
import { PUBLIC_PATHS } from './api-key.middleware.js';

/**
 * Global guard, identical on REST and MCP: nothing runs without a caller identity. The API-key middleware (HTTP)
 * or the stdio transport sets it; this is the last line if a route ever escapes the middleware. Scope checks
 * (issue 7) hang off the same principal.
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
