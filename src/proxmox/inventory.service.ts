import { Injectable } from '@nestjs/common';
import type { TargetConfig } from '../config/app-config.js';
import { ProxmoxGateway } from './proxmox.gateway.js';
import type { ProxmoxClient } from './proxmox-client.js';
import type { PveClusterResource } from './pve-types.js';
import { shareAnswer } from '../common/tools/shared-answer.js';

export type ResourceType = 'vm' | 'node' | 'storage';

export interface InventoryResources {
  target: string;
  /** A new array per call; with the cache on, its items are shared and frozen (read-only). */
  items: PveClusterResource[];
  /** Nodes that are not online: their guests and storages come back as 'unknown' or stale. */
  unavailableNodes: string[];
}

interface CachedAnswer {
  items: readonly PveClusterResource[];
  expiresAt: number;
}

/** One read: the rows, and the cached answer they came from when the cache served them (undefined otherwise). */
interface Read {
  resources: InventoryResources;
  cachedSource?: readonly PveClusterResource[];
}

/**
 * Answers derived from one cached upstream answer, per key (a tool's arguments). Bounded, as each may hold a page
 * of up to 5,000 rows with its text and JSON: a caller paging through many offsets within one cache lifetime gets
 * its pages computed, not stored past this many.
 */
const MAX_DERIVED_PER_ANSWER = 16;

/**
 * The inventory source for every list tool: ONE /cluster/resources call per request (never node × guest
 * fan-out), and node availability from the same answer, so an offline node degrades the result instead of
 * failing it. The gateway coalesces identical concurrent calls.
 *
 * With the target's `proxmox.inventory_cache_seconds` above 0 (default 2), an answer also serves the calls that follow within that time (an agent that
 * lists VMs, then containers, then storage makes one upstream request), shared read-only (frozen) between
 * callers. Our own mutations drop it at once (the gateway reports every POST/PUT/DELETE it sent and every tracked
 * task that ended, and invalidate() runs); changes made elsewhere (the PVE UI, other
 * tools) show up when it expires. Failures are never cached. The cache serves reads only: a mutation's own
 * checks (is the guest locked, running, is the ID free) ask for `{ fresh: true }` and always read PVE.
 */
@Injectable()
export class InventoryService {
  private readonly cache = new Map<string, CachedAnswer>();
  /** Bumped by invalidate(): an answer requested before a mutation is not stored after it. */
  private generation = 0;

  constructor(private readonly gateway: ProxmoxGateway) {
    gateway.onChange((target) => this.invalidate(target));
  }

  /** Answers derived from a cached answer (derived()), dropped with it: keyed on the cached array itself. */
  private readonly derivedByAnswer = new WeakMap<readonly PveClusterResource[], Map<string, object>>();

  /** The target's /cluster/resources rows of one type, with the nodes that are not online. */
  async clusterResources(
    type: ResourceType,
    target?: string,
    options: { fresh?: boolean } = {},
  ): Promise<InventoryResources> {
    return (await this.read(type, target, !options.fresh)).resources;
  }

  /**
   * A tool's answer computed from the rows of clusterResources(type, target): while the cache serves the same
   * upstream answer, the same `key` (the tool's name and every argument that shapes the answer) returns the same
   * object, computed once, deep-frozen and marked shared (common/tools/shared-answer.ts), so the text and the
   * serialised MCP result are not rebuilt per call either. It follows the cache exactly: invalidate() and expiry
   * drop the cached answer, the next call reads PVE, and nothing computed from the old answer is served again. A
   * call that read PVE itself (nothing cached, cache off) computes its own answer, unshared, as before.
   * `compute` must depend only on the rows and on what `key` names, never on the caller.
   */
  async derived<T extends object>(
    type: ResourceType,
    target: string | undefined,
    key: string,
    compute: (resources: InventoryResources) => T,
  ): Promise<T> {
    const { resources, cachedSource } = await this.read(type, target, true);
    if (!cachedSource) return compute(resources);
    let answers = this.derivedByAnswer.get(cachedSource);
    if (!answers) {
      answers = new Map();
      this.derivedByAnswer.set(cachedSource, answers);
    }
    const memoKey = `${type}\n${key}`;
    const hit = answers.get(memoKey);
    if (hit) return hit as T;
    const answer = shareAnswer(compute(resources));
    if (answers.size < MAX_DERIVED_PER_ANSWER) answers.set(memoKey, answer);
    return answer;
  }

  private async read(type: ResourceType, target: string | undefined, useCache: boolean): Promise<Read> {
    // the target is resolved once: its name keys the cache, its client and cache time serve the fetch
    const { config, client } = this.gateway.resolve(target);
    if (type === 'node') {
      // a cached full answer has the nodes too; otherwise the smaller node-only query
      const cachedAll = useCache ? this.cached(config.name, 'all') : undefined;
      const cachedNodes = cachedAll ? undefined : this.cachedIfOn(config, 'node', useCache);
      const source = cachedAll ?? cachedNodes ?? (await this.fetch(client, config, 'node', useCache));
      const items = source.filter((r) => r.type === 'node');
      return {
        resources: { target: config.name, items, unavailableNodes: offline(items) },
        cachedSource: cachedAll ?? cachedNodes,
      };
    }
    // Nodes come in the same unfiltered call so availability and inventory are one consistent answer.
    const cached = this.cachedIfOn(config, 'all', useCache);
    const all = cached ?? (await this.fetch(client, config, 'all', useCache));
    // one pass over what may be thousands of rows: the type's rows and the nodes that are not online
    const items: PveClusterResource[] = [];
    const down: string[] = [];
    for (const r of all) {
      if (r.type === 'node' && r.status !== 'online') down.push(String(r.node));
      if (type === 'vm' ? r.type === 'qemu' || r.type === 'lxc' : r.type === type) items.push(r);
    }
    return {
      resources: { target: config.name, items, unavailableNodes: down.sort() },
      cachedSource: cached,
    };
  }

  /**
   * Drops cached answers (of one target, or of every target when it is absent or not a configured name), so the
   * next inventory call reads PVE again. Called after a mutation is sent and when a job ends.
   */
  invalidate(target?: string): void {
    this.generation++;
    let name: string | undefined;
    try {
      name = target === undefined ? undefined : this.gateway.targetConfig(target).name;
    } catch {
      name = undefined;
    }
    if (name === undefined) {
      this.cache.clear();
      return;
    }
    for (const key of this.cache.keys()) if (key.startsWith(`${name}\n`)) this.cache.delete(key);
  }

  private cached(targetName: string, kind: 'all' | 'node'): readonly PveClusterResource[] | undefined {
    const hit = this.cache.get(`${targetName}\n${kind}`);
    return hit && hit.expiresAt > Date.now() ? hit.items : undefined;
  }

  /** The cached answer, when this target caches and the call may use it. */
  private cachedIfOn(
    config: TargetConfig,
    kind: 'all' | 'node',
    useCache: boolean,
  ): readonly PveClusterResource[] | undefined {
    return config.inventoryCacheMs > 0 && useCache ? this.cached(config.name, kind) : undefined;
  }

  private async fetch(
    client: ProxmoxClient,
    config: TargetConfig,
    kind: 'all' | 'node',
    useCache: boolean,
  ): Promise<readonly PveClusterResource[]> {
    const ttlMs = config.inventoryCacheMs;
    const cached = this.cachedIfOn(config, kind, useCache);
    if (cached) return cached;
    const generation = this.generation;
    const items = await client.get<PveClusterResource[]>(
      '/cluster/resources',
      kind === 'node' ? { type: 'node' } : undefined,
    );
    if (ttlMs === 0) return items;
    // shared by every caller until it expires: read-only, so no caller can change what the next one sees
    for (const item of items) Object.freeze(item);
    Object.freeze(items);
    if (generation === this.generation) {
      this.cache.set(`${config.name}\n${kind}`, { items, expiresAt: Date.now() + ttlMs });
    }
    return items;
  }
}

const offline = (nodes: readonly PveClusterResource[]): string[] =>
  nodes
    .filter((n) => n.type === 'node' && n.status !== 'online')
    .map((n) => String(n.node))
    .sort();
