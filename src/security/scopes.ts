import { SetMetadata } from '@nestjs/common';
import type { ApiKeyScope } from '../config/app-config.js';
import type { ToolRisk } from '../mcp/decorators/mcp-tool.decorator.js';

const RANK: Record<ApiKeyScope, number> = { read: 0, operate: 1, admin: 2 };

/**
 * The least scope a tool needs: `read` tools need `read`; `power`, `mutate` and `exec` need `operate`; `destroy`
 * needs `admin`. A tool may ask for more (McpToolOptions.scope, e.g. `admin` for the audit log), never for less.
 */
export function requiredScope(risk: ToolRisk, declared?: ApiKeyScope): ApiKeyScope {
  const byRisk: ApiKeyScope = risk === 'read' ? 'read' : risk === 'destroy' ? 'admin' : 'operate';
  return declared && RANK[declared] > RANK[byRisk] ? declared : byRisk;
}

export const scopeAllows = (have: ApiKeyScope, need: ApiKeyScope): boolean => RANK[have] >= RANK[need];

export const REQUIRED_SCOPE_METADATA = 'proxmox-mcp:required-scope';

/**
 * For HTTP routes that are not tools (a tool states its scope in @McpTool): the least scope a caller needs.
 * It is metadata read by the global ToolAccessGuard, not a scoped guard, so it works the same on every path.
 */
export const RequireScope = (scope: ApiKeyScope) => SetMetadata(REQUIRED_SCOPE_METADATA, scope);
