import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../../common/tools/tool-definition.js';

/** Which tool call a PVE mutation belongs to, for the change journal. */
export interface ChangeScope {
  tool: string;
  actor?: string;
  /** Set by revert_change: the change this call puts back. */
  revertOf?: number;
}

const storage = new AsyncLocalStorage<ChangeScope>();

export function currentChangeScope(): ChangeScope | undefined {
  return storage.getStore();
}

/**
 * Global: every call of a mutating tool runs inside its change scope (tool name and caller), so the change journal,
 * reached from deep inside ProxmoxClient, knows who changed what with which tool. Its own storage, so it works
 * whatever order the global interceptors run in.
 */
@Injectable()
export class ChangeScopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    if (!tool || tool.runsTools || tool.risk === 'read') return next.handle();
    const principal = context.switchToHttp().getRequest<{ principal?: Principal }>().principal;
    const scope: ChangeScope = { tool: tool.name, ...(principal ? { actor: principal.name } : {}) };
    return new Observable((subscriber) => storage.run(scope, () => next.handle().subscribe(subscriber)));
  }
}

/** Runs `fn` as the revert of change `id`: the change it journals is linked to that one (revert_change). */
export function asRevertOf<T>(id: number, fn: () => Promise<T>): Promise<T> {
  const scope = storage.getStore();
  return storage.run({ ...(scope ?? { tool: 'revert_change' }), revertOf: id }, fn);
}
