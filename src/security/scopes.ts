import { SetMetadata } from '@nestjs/common';
import type { ApiKeyScope } from '../config/app-config.js';

// the scope rules live in a Nest-free module (the stdio fast start uses them before Nest is loaded)
export { requiredScope, scopeAllows } from './tool-visibility.js';

export const REQUIRED_SCOPE_METADATA = 'proxmox-mcp:required-scope';

/**
 * For HTTP routes that are not tools (a tool states its scope in @McpTool): the least scope a caller needs.
 * It is metadata read by the global ToolAccessGuard, not a scoped guard, so it works the same on every path.
 */
export const RequireScope = (scope: ApiKeyScope) => SetMetadata(REQUIRED_SCOPE_METADATA, scope);
