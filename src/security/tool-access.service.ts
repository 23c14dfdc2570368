import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { APP_CONFIG, ConfigError, type AppConfig } from '../config/app-config.js';
import type { McpToolOptions } from '../mcp/decorators/mcp-tool.decorator.js';
import type { Principal } from '../mcp/registry/tool-definition.js';
import { ToolRegistry } from '../mcp/registry/tool-registry.js';
import { requiredScope, scopeAllows } from './scopes.js';

/** Why a call is refused; `message` names what would allow it. Every reason maps to FORBIDDEN. */
export interface AccessDenial {
  reason: 'exposure' | 'scope' | 'key_tools' | 'key_targets' | 'read_only_target';
  message: string;
  hint: string;
}

type ToolFacts = Pick<McpToolOptions, 'name' | 'risk' | 'scope'>;

/**
 * Who may use which tool on which target: the exposure lists (mcp.tool_allowlist / tool_denylist), the caller's
 * scope and per-key limits (security.api_keys[].tools / targets), and read-only targets. The same decisions serve
 * the guard that refuses calls and the lists that hide tools (MCP tools/list, the OpenAPI document), so what a
 * caller sees is exactly what it may call.
 */
@Injectable()
export class ToolAccessService implements OnApplicationBootstrap {
  private readonly allow: ReadonlySet<string>;
  private readonly deny: ReadonlySet<string>;
  private readonly visibleByPrincipal = new Map<string, ReadonlySet<string>>();
  private readonly documents = new WeakMap<OpenAPIObject, Map<string, OpenAPIObject>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ToolRegistry,
  ) {
    this.allow = new Set(config.mcp.toolAllowlist);
    this.deny = new Set(config.mcp.toolDenylist);
  }

  /** Runs after the registry has built the tool table (it depends on it): unknown tool names stop the boot. */
  onApplicationBootstrap(): void {
    const known = new Set(this.registry.all().map((t) => t.name));
    const problems: string[] = [];
    const check = (label: string, names: readonly string[] | undefined) => {
      const unknown = (names ?? []).filter((n) => !known.has(n));
      if (unknown.length) {
        problems.push(
          `${label}: unknown tool${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this server has: ${[...known].sort().join(', ')}`,
        );
      }
    };
    check('mcp.tool_allowlist', this.config.mcp.toolAllowlist);
    check('mcp.tool_denylist', this.config.mcp.toolDenylist);
    for (const key of this.config.http.apiKeys) check(`security.api_keys[${key.name}].tools`, key.tools);
    if (problems.length) throw new ConfigError(problems);
  }

  /** Served at all (allow/deny lists), whoever asks. */
  isExposed(name: string): boolean {
    if (this.allow.size > 0) return this.allow.has(name);
    return !this.deny.has(name);
  }

  /** Whether this caller may call this tool at all (target aside). */
  checkTool(principal: Principal, tool: ToolFacts): AccessDenial | undefined {
    if (!this.isExposed(tool.name)) {
      const list = this.allow.size > 0 ? 'it is not in mcp.tool_allowlist' : 'it is in mcp.tool_denylist';
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
   * Whether this caller may run this tool against `target` (as the caller gave it; undefined = the only target).
   * Unknown names and an omitted target on a multi-target server are left to the tool, which explains them.
   */
  checkTarget(principal: Principal, tool: ToolFacts, target: string | undefined): AccessDenial | undefined {
    const targets = this.config.targets;
    const name = target ?? (targets.length === 1 ? targets[0].name : undefined);
    if (name === undefined) return undefined;
    if (principal.targets && !principal.targets.includes(name)) {
      return {
        reason: 'key_targets',
        message: `The API key '${principal.name}' may only use the target${principal.targets.length > 1 ? 's' : ''} ${principal.targets.join(', ')} (not '${name}')`,
        hint: "Pass one of the key's targets; an operator sets them in security.api_keys[].targets.",
      };
    }
    const config = targets.find((t) => t.name === name);
    if (config?.readOnly && tool.risk !== 'read') {
      return {
        reason: 'read_only_target',
        message: `Target '${name}' is read-only (targets.${name}.read_only): '${tool.name}' (risk ${tool.risk}) is refused there`,
        hint: 'Only read tools may use this target.',
      };
    }
    return undefined;
  }

  /**
   * The tools this caller sees in tools/list and the OpenAPI document: exposed, allowed by its scope and key
   * limits, and, when every target it may use is read-only, only read tools. Computed once per key.
   */
  visibleTools(principal: Principal): ReadonlySet<string> {
    const cacheKey = principalKey(principal);
    let visible = this.visibleByPrincipal.get(cacheKey);
    if (!visible) {
      const reachable = this.config.targets.filter(
        (t) => !principal.targets || principal.targets.includes(t.name),
      );
      const onlyReadOnly = reachable.length > 0 && reachable.every((t) => t.readOnly);
      visible = new Set(
        this.registry
          .all()
          .filter((t) => !this.checkTool(principal, t.options))
          .filter((t) => !onlyReadOnly || t.risk === 'read')
          .map((t) => t.name),
      );
      this.visibleByPrincipal.set(cacheKey, visible);
    }
    return visible;
  }

  /**
   * The OpenAPI document as this caller may use it: operations of tools it cannot call are left out (both the
   * resource route and POST /{tool}); other routes stay. Built once per key and document.
   */
  documentFor(principal: Principal | undefined, document: OpenAPIObject): OpenAPIObject {
    const key = principal ? principalKey(principal) : '\u0000exposed';
    let perKey = this.documents.get(document);
    if (!perKey) this.documents.set(document, (perKey = new Map<string, OpenAPIObject>()));
    let filtered = perKey.get(key);
    if (!filtered) {
      const allowed = (name: string) =>
        principal ? this.visibleTools(principal).has(name) : this.isExposed(name);
      const paths: OpenAPIObject['paths'] = {};
      for (const [path, item] of Object.entries(document.paths)) {
        const kept = Object.fromEntries(
          Object.entries(item).filter(([, op]) => {
            const tool = (op as { 'x-mcp-tool'?: { name?: string } } | undefined)?.['x-mcp-tool'];
            return !tool?.name || allowed(tool.name);
          }),
        );
        if (Object.keys(kept).length) paths[path] = kept;
      }
      filtered = { ...document, paths };
      perKey.set(key, filtered);
    }
    return filtered;
  }
}

const principalKey = (p: Principal) => `${p.via}\u0000${p.name}\u0000${p.scope}`;
