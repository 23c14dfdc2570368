import type { ApiKeyScope, AppConfig } from '../config/app-config.js';
import type { ToolRisk } from '../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../common/tools/tool-definition.js';
import { COMPACT_TOOLS, type ToolMode } from '../common/tools/toolsets.js';

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
  /** Its toolset (@McpToolset); absent only on a tool that lacks one: then served only when every set is. */
  toolset?: string;
}

/** Why a call is refused; `message` names what would allow it. Every reason maps to FORBIDDEN. */
export interface AccessDenial {
  reason:
    'exposure' | 'toolset' | 'scope' | 'key_tools' | 'key_toolsets' | 'key_targets' | 'read_only_target';
  message: string;
  hint: string;
}

/** mcp.tool_allowlist / tool_denylist as sets, mcp.toolsets (undefined = every set) and mcp.tool_mode. */
export interface ExposureLists {
  allow: ReadonlySet<string>;
  deny: ReadonlySet<string>;
  toolsets?: ReadonlySet<string>;
  mode: ToolMode;
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

export function exposureLists(
  mcp: Pick<AppConfig['mcp'], 'toolAllowlist' | 'toolDenylist'> &
    Partial<Pick<AppConfig['mcp'], 'toolsets' | 'toolMode'>>,
): ExposureLists {
  return {
    allow: new Set(mcp.toolAllowlist),
    deny: new Set(mcp.toolDenylist),
    ...(mcp.toolsets?.length ? { toolsets: new Set(mcp.toolsets) } : {}),
    mode: mcp.toolMode ?? 'full',
  };
}

/** Served at all (allow/deny lists), whoever asks: a non-empty allowlist wins over the denylist. */
export function isExposed(lists: ExposureLists, name: string): boolean {
  if (lists.allow.size > 0) return lists.allow.has(name);
  return !lists.deny.has(name);
}

/**
 * In compact mode the three catalog tools are open to every caller whatever the toolset selections and a key's
 * `tools` limit: they only find, describe and run what the caller may use anyway.
 */
const compactOpen = (lists: ExposureLists, name: string) =>
  lists.mode === 'compact' && COMPACT_TOOLS.has(name);

/** In the selected toolsets (absent selection = every set); a tool without a set only when every set is. */
const inToolsets = (sets: ReadonlySet<string> | readonly string[] | undefined, tool: ToolFacts): boolean => {
  if (!sets) return true;
  if (!tool.toolset) return false;
  return 'has' in sets ? sets.has(tool.toolset) : sets.includes(tool.toolset);
};

/**
 * What tools/list shows over MCP from the tools a caller may call: all of them, or in compact mode only the
 * catalog tools (REST routes and the OpenAPI document are not affected).
 */
export function listedToolNames(visible: ReadonlySet<string>, lists: ExposureLists): ReadonlySet<string> {
  if (lists.mode !== 'compact') return visible;
  return new Set([...visible].filter((name) => COMPACT_TOOLS.has(name)));
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

/** Whether this caller may call this tool at all (target aside): exposure, toolsets, scope, the key's limits. */
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
  const open = compactOpen(lists, tool.name);
  if (!open && !inToolsets(lists.toolsets, tool)) {
    return {
      reason: 'toolset',
      message: `Tool '${tool.name}' (toolset ${tool.toolset ?? 'none'}) is not available on this server: mcp.toolsets is ${[...(lists.toolsets ?? [])].join(', ')}`,
      hint: 'Use a tool of those toolsets; an operator chooses them (mcp.toolsets, MCP_TOOLSETS).',
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
  if (!open && principal.tools && !principal.tools.includes(tool.name)) {
    return {
      reason: 'key_tools',
      message: `The API key '${principal.name}' may only call: ${principal.tools.join(', ')} (not '${tool.name}')`,
      hint: "An operator sets a key's tools in security.api_keys[].tools.",
    };
  }
  if (!open && !inToolsets(principal.toolsets, tool)) {
    return {
      reason: 'key_toolsets',
      message: `The API key '${principal.name}' may only use the toolsets ${(principal.toolsets ?? []).join(', ')} (not '${tool.name}' of toolset ${tool.toolset ?? 'none'})`,
      hint: "An operator sets a key's toolsets in security.api_keys[].toolsets.",
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
