import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { APP_CONFIG, ConfigError, type AppConfig } from '../config/app-config.js';
import type { Principal } from '../common/tools/tool-definition.js';
import { TOOL_TABLE, type ToolTable } from '../common/tools/tool-table.js';
import {
  exposureLists,
  isExposed,
  listedToolNames,
  toolDenial,
  unknownToolNameProblems,
  SSH_TOOLS,
  visibleToolNames,
  type AccessDenial,
  type ExposureLists,
  type ToolFacts,
} from './tool-visibility.js';

export type { AccessDenial } from './tool-visibility.js';

/**
 * Who may use which tool on which target: the exposure lists (mcp.tool_allowlist / tool_denylist), the caller's
 * scope and per-key limits (security.api_keys[].tools / targets), and read-only targets. The same decisions serve
 * the guard that refuses calls and the lists that hide tools (MCP tools/list, the OpenAPI document), so what a
 * caller sees is exactly what it may call.
 */
@Injectable()
export class ToolAccessService implements OnApplicationBootstrap {
  private readonly lists: ExposureLists;
  private readonly visibleByPrincipal = new Map<string, ReadonlySet<string>>();
  private readonly listedByPrincipal = new Map<string, ReadonlySet<string>>();
  private readonly documents = new WeakMap<OpenAPIObject, Map<string, OpenAPIObject>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TOOL_TABLE) private readonly registry: ToolTable,
  ) {
    this.lists = exposureLists(config.mcp);
  }

  /** Runs after the registry has built the tool table (it depends on it): unknown tool names stop the boot. */
  onApplicationBootstrap(): void {
    const known = new Set(this.registry.all().map((t) => t.name));
    const problems = unknownToolNameProblems(known, this.config);
    if (problems.length) throw new ConfigError(problems);
  }

  /** Served at all (allow/deny lists), whoever asks. */
  isExposed(name: string): boolean {
    return isExposed(this.lists, name);
  }

  /** Whether this caller may call this tool at all (target aside). */
  checkTool(principal: Principal, tool: ToolFacts): AccessDenial | undefined {
    return toolDenial(this.lists, principal, this.factsOf(tool));
  }

  /**
   * What tools/list shows this caller over MCP: the tools it may call, or in compact mode only search_tools,
   * describe_tool and call_tool.
   */
  listedTools(principal: Principal | undefined): ReadonlySet<string> {
    const key = principal ? principalKey(principal) : UNAUTHENTICATED;
    let listed = this.listedByPrincipal.get(key);
    if (!listed) {
      listed = listedToolNames(this.callableTools(principal), this.lists);
      this.listedByPrincipal.set(key, listed);
    }
    return listed;
  }

  /**
   * The tools this caller may call (what search_tools and describe_tool show): visibleTools, or without a caller
   * (no authentication at all) the tools the server's own selections serve.
   */
  callableTools(principal: Principal | undefined): ReadonlySet<string> {
    if (principal) return this.visibleTools(principal);
    let served = this.visibleByPrincipal.get(UNAUTHENTICATED);
    if (!served) {
      served = new Set(
        this.registry
          .all()
          .filter((t) => this.servedToAnyone(t.name))
          .map((t) => t.name),
      );
      this.visibleByPrincipal.set(UNAUTHENTICATED, served);
    }
    return served;
  }

  /** Served by the server's own selections (exposure lists, toolsets), whoever asks. */
  private servedToAnyone(name: string): boolean {
    const tool = this.registry.get(name);
    return tool ? !toolDenial(this.lists, ANYONE, this.factsOf(tool.options)) : this.isExposed(name);
  }

  /** The tool's facts with its toolset, which lives on the tool table rather than in @McpTool's options. */
  private factsOf(tool: ToolFacts): ToolFacts {
    if (tool.toolset) return tool;
    const toolset = this.registry.get(tool.name)?.toolset;
    return toolset ? { name: tool.name, risk: tool.risk, scope: tool.scope, toolset } : tool;
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
      const facts = this.registry.all().map((t) => this.factsOf(t.options));
      visible = visibleToolNames(facts, this.lists, this.config, principal);
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
        principal
          ? this.visibleTools(principal).has(name)
          : this.servedToAnyone(name) && (this.config.ssh !== undefined || !SSH_TOOLS.has(name));
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

/** The unauthenticated listing applies the server's own selections only (exposure, toolsets). */
const ANYONE: Principal = { name: 'anyone', scope: 'admin', via: 'no-auth' };

const UNAUTHENTICATED = '\u0000unauthenticated';

const principalKey = (p: Principal) =>
  `${p.via}\u0000${p.name}\u0000${p.scope}` +
  // an OAuth subject's limits come with each token and may change between tokens
  (p.via === 'oauth' ? `\u0000${JSON.stringify([p.targets, p.tools, p.toolsets])}` : '');
