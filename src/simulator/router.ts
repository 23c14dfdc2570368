import type { TokenAccess } from './access.js';
import type { SimNode } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import type { SimLogs } from './logs.js';
import { PathTrie } from './path-trie.js';
import { PveError } from './pve-error.js';
import type { ApiOperation, HttpMethod, ParamMap, ParamSchema } from './schema-validator.js';
import type { TaskRunner } from './tasks.js';

/**
 * The simulator's own route table: method + PVE path template → handler. Handlers get validated parameters (path
 * segments merged in, as PVE does) and return the `data` of the answer, or a Reply when the envelope needs more
 * (`total`). They throw PveError for PVE's error answers. Add an endpoint with one `router.get(...)` line in a
 * handlers/*.ts module.
 */
export interface SimulatorServices {
  cluster: ClusterState;
  tasks: TaskRunner;
  /** The API token's ACL (GET /access/permissions). */
  access: TokenAccess;
  /** Journal, firewall log and cluster log of every node. */
  logs: SimLogs;
}

export class Reply {
  constructor(
    readonly data: unknown,
    /** Top-level envelope fields besides `data`, e.g. `{ total: 42 }`. */
    readonly extra: Record<string, unknown> = {},
  ) {}
}

export class RouteContext {
  constructor(
    readonly method: HttpMethod,
    /** Relative to /api2/json, e.g. `/nodes/pve1/qemu`. */
    readonly path: string,
    readonly params: ParamMap,
    readonly services: SimulatorServices,
    /** `user@realm!token` of the authenticated API token (the UPID user of tasks it starts). */
    readonly authUser: string,
    /** The operation's schema entry (undefined when the simulator runs without a schema file). */
    readonly operation?: ApiOperation,
  ) {}

  /**
   * The schema of a parameter of this operation (`net0` resolves to `net[n]`); undefined when unknown, or when
   * there is no schema file (then handlers accept the option, as they cannot tell).
   */
  paramSchema(name: string): ParamSchema | undefined {
    const properties = this.operation?.parameters?.properties;
    if (!properties) return undefined;
    if (Object.prototype.hasOwnProperty.call(properties, name)) return properties[name];
    const m = /^([a-z]+)(\d+)$/.exec(name);
    return m ? properties[`${m[1]}[n]`] : undefined;
  }

  get schemaChecked(): boolean {
    return this.operation !== undefined;
  }

  /** PVE refuses `skiplock` (and other root-only flags) from anyone but root@pam itself, API tokens included. */
  rootOnly(...names: string[]): void {
    if (this.authUser === 'root@pam') return;
    for (const name of names) {
      const v = this.params[name];
      // Perl truth: '', '0' and 0 are false
      if (v !== undefined && v !== null && v !== '' && v !== 0 && v !== '0' && v !== false) {
        throw PveError.params({ [name]: 'Only root may use this option.' });
      }
    }
  }

  get cluster(): ClusterState {
    return this.services.cluster;
  }

  get tasks(): TaskRunner {
    return this.services.tasks;
  }

  get access(): TokenAccess {
    return this.services.access;
  }

  has(name: string): boolean {
    return this.params[name] !== undefined && this.params[name] !== null;
  }

  str(name: string): string | undefined {
    const v = this.params[name];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v.map(String).join(',');
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  }

  int(name: string): number | undefined {
    const v = this.str(name);
    return v === undefined ? undefined : Number.parseInt(v === 'true' ? '1' : v === 'false' ? '0' : v, 10);
  }

  /** Schema-checked booleans: 0/1 strings or JSON booleans. */
  bool(name: string): boolean {
    const v = this.params[name];
    return v === true || v === 1 || v === '1';
  }

  /** The `{node}` of the path; an unknown name fails like PVE's DNS fallback does. */
  node(): SimNode {
    const name = this.str('node') ?? '';
    const node = this.cluster.node(name);
    if (!node) throw unknownNode(name);
    return node;
  }

  vmid(): number {
    return this.int('vmid') ?? NaN;
  }
}

/** What pveproxy answers for a node name that is not a cluster member (it falls back to a DNS lookup). */
export function unknownNode(name: string): PveError {
  return PveError.internal(
    `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
  );
}

export type RouteHandler = (ctx: RouteContext) => unknown;

export interface RouteMatch {
  handler: RouteHandler;
  template: string;
  pathParams: Record<string, string>;
}

export class Router {
  private readonly trie = new PathTrie<Partial<Record<HttpMethod, RouteHandler>>>();

  add(method: HttpMethod, template: string, handler: RouteHandler): this {
    const existing = this.trie.getExact(template) ?? {};
    if (existing[method]) throw new Error(`route ${method} ${template} is registered twice`);
    this.trie.set(template, { ...existing, [method]: handler });
    return this;
  }

  get(template: string, handler: RouteHandler): this {
    return this.add('GET', template, handler);
  }

  post(template: string, handler: RouteHandler): this {
    return this.add('POST', template, handler);
  }

  put(template: string, handler: RouteHandler): this {
    return this.add('PUT', template, handler);
  }

  delete(template: string, handler: RouteHandler): this {
    return this.add('DELETE', template, handler);
  }

  match(method: HttpMethod, segments: readonly string[]): RouteMatch | null {
    const found = this.trie.match(segments);
    const handler = found?.value[method];
    return found && handler ? { handler, template: found.template, pathParams: found.params } : null;
  }
}
