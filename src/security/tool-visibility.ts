import type { ApiKeyScope, AppConfig } from '../config/app-config.js';
import type { ToolRisk } from '../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../common/tools/tool-definition.js';

/*
 * The access rules as plain functions, without Nest: ToolAccessService (guard, tools/list, OpenAPI) and the
 * stdio fast start (tools/list from the build-time manifest before the application is up) both use them, so the
 * two cannot disagree about which tools a caller sees.
 */

/** What the rules need to know about a tool. */
export interface ToolFacts {
  name: string;
  risk: ToolRisk;
  /** A stricter scope than the risk implies (McpToolOptions.scope). */
  scope?: ApiKeyScope;
}

/** Why a call is refused; `message` names what would allow it. Every reason maps to FORBIDDEN. */
export interface AccessDenial {
  reason: 'exposure' | 'scope' | 'key_tools' | 'key_targets' | 'read_only_target';
  message: string;
  hint: string;
}

/** mcp.tool_allowlist / tool_denylist as sets. */
export interface ExposureLists {
  allow: ReadonlySet<string>;
  deny: ReadonlySet<string>;
}

const RANK: Record<ApiKeyScope, number> = { read: 0, operate: 1, admin: 2 };

/**
 * Tools that reach containers over SSH: listed only when the config has an `ssh` section, as in the reference
 * (a call without it is still refused with a clear error by the tool itself).
 */
export const SSH_TOOLS: ReadonlySet<string> = new Set([
  'execute_container_command',
  'update_container_ssh_keys',
]);

/**
 * The least scope a tool needs: `read` tools need `read`; `power`, `mutate` and `exec` need `operate`; `destroy`
 * needs `admin`. A tool may ask for more (McpToolOptions.scope, e.g. `admin` for the audit log), never for less.
 */
export function requiredScope(risk: ToolRisk, declared?: ApiKeyScope): ApiKeyScope {
  const byRisk: ApiKeyScope = risk === 'read' ? 'read' : risk === 'destroy' ? 'admin' : 'operate';
  return declared && RANK[declared] > RANK[byRisk] ? declared : byRisk;
}

export const scopeAllows = (have: ApiKeyScope, need: ApiKeyScope): boolean => RANK[have] >= RANK[need];

export function exposureLists(mcp: Pick<AppConfig['mcp'], 'toolAllowlist' | 'toolDenylist'>): ExposureLists {
  return { allow: new Set(mcp.toolAllowlist), deny: new Set(mcp.toolDenylist) };
}

/** Served at all (allow/deny lists), whoever asks: a non-empty allowlist wins over the denylist. */
export function isExposed(lists: ExposureLists, name: string): boolean {
  if (lists.allow.size > 0) return lists.allow.has(name);
  return !lists.deny.has(name);
}

/** Tool names in the configuration that this server does not have (a boot error, listing what it has). */
export function unknownToolNameProblems(known: ReadonlySet<string>, config: AppConfig): string[] {
  const problems: string[] = [];
  const check = (label: string, names: readonly string[] | undefined) => {
    const unknown = (names ?? []).filter((n) => !known.has(n));
    if (unknown.length) {
      problems.push(
        `${label}: unknown tool${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this server has: ${[...known].sort().join(', ')}`,
      );
    }
  };
  check('mcp.tool_allowlist', config.mcp.toolAllowlist);
  check('mcp.tool_denylist', config.mcp.toolDenylist);
  for (const key of config.http.apiKeys) check(`security.api_keys[${key.name}].tools`, key.tools);
  return problems;
}

/** Whether this caller may call this tool at all (target aside): exposure, scope, the key's tools. */
export function toolDenial(
  lists: ExposureLists,
  principal: Principal,
  tool: ToolFacts,
): AccessDenial | undefined {
  if (!isExposed(lists, tool.name)) {
    const list = lists.allow.size > 0 ? 'it is not in mcp.tool_allowlist' : 'it is in mcp.tool_denylist';
    return {
      reason: 'exposure',
      message: `Tool '${tool.name}' is not available on this server: ${list}`,
      hint: 'Use another tool; an operator controls the exposed tools (MCP_TOOL_ALLOWLIST / MCP_TOOL_DENYLIST).',
    };
  }
  const need = requiredScope(tool.risk, tool.scope);
  if (!scopeAllows(principal.scope, need)) {
    return {
      reason: 'scope',
      message: `Tool '${tool.name}' (risk ${tool.risk}) needs an API key with scope '${need}'; the key '${principal.name}' has scope '${principal.scope}'`,
      hint: `Ask an operator for a key with scope '${need}' if this caller should be able to do this.`,
    };
  }
  if (principal.tools && !principal.tools.includes(tool.name)) {
    return {
      reason: 'key_tools',
      message: `The API key '${principal.name}' may only call: ${principal.tools.join(', ')} (not '${tool.name}')`,
      hint: "An operator sets a key's tools in security.api_keys[].tools.",
    };
  }
  return undefined;
}

/**
 * The tools this caller sees in tools/list and the OpenAPI document: exposed, allowed by its scope and key
 * limits, the SSH tools only when `ssh` is configured, and, when every target it may use is read-only, only read
 * tools.
 */
export function visibleToolNames(
  tools: readonly ToolFacts[],
  lists: ExposureLists,
  config: Pick<AppConfig, 'targets' | 'ssh'>,
  principal: Principal,
): Set<string> {
  const reachable = config.targets.filter((t) => !principal.targets || principal.targets.includes(t.name));
  const onlyReadOnly = reachable.length > 0 && reachable.every((t) => t.readOnly);
  return new Set(
    tools
      .filter((t) => !toolDenial(lists, principal, t))
      .filter((t) => config.ssh !== undefined || !SSH_TOOLS.has(t.name))
      .filter((t) => !onlyReadOnly || t.risk === 'read')
      .map((t) => t.name),
  );
}
