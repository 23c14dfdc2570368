import { Injectable } from '@nestjs/common';
import type { TargetConfig } from '../config/app-config.js';
import { ProxmoxGateway } from './proxmox.gateway.js';
import type { ProxmoxClient } from './proxmox-client.js';
import type { PveClusterResource } from './pve-types.js';

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

  /** The target's /cluster/resources rows of one type, with the nodes that are not online. */
  async clusterResources(
    type: ResourceType,
    target?: string,
    options: { fresh?: boolean } = {},
  ): Promise<InventoryResources> {
    // the target is resolved once: its name keys the cache, its client and cache time serve the fetch
    const { config, client } = this.gateway.resolve(target);
    const useCache = !options.fresh;
    if (type === 'node') {
      // a cached full answer has the nodes too; otherwise the smaller node-only query
      const source =
        (useCache ? this.cached(config.name, 'all') : undefined) ??
        (await this.fetch(client, config, 'node', useCache));
      const items = source.filter((r) => r.type === 'node');
      return { target: config.name, items, unavailableNodes: offline(items) };
    }
    // Nodes come in the same unfiltered call so availability and inventory are one consistent answer.
    const all = await this.fetch(client, config, 'all', useCache);
    return {
      target: config.name,
      items: all.filter((r) => (type === 'vm' ? r.type === 'qemu' || r.type === 'lxc' : r.type === type)),
      unavailableNodes: offline(all.filter((r) => r.type === 'node')),
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

  private async fetch(
    client: ProxmoxClient,
    config: TargetConfig,
    kind: 'all' | 'node',
    useCache: boolean,
  ): Promise<readonly PveClusterResource[]> {
    const ttlMs = config.inventoryCacheMs;
    const cached = ttlMs > 0 && useCache ? this.cached(config.name, kind) : undefined;
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
