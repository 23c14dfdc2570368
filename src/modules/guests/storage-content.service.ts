import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import { InventoryService } from '../../proxmox/inventory.service.js';

/** One item of GET /nodes/{node}/storage/{storage}/content, as PVE sends it (numbers may arrive as strings). */
export interface PveContentItem {
  volid: string;
  content: string;
  format?: string;
  size?: number | string;
  ctime?: number | string;
  vmid?: number | string;
  notes?: string;
  protected?: number | string | boolean;
  subtype?: string;
}

/** A content item with where it was read: the storage, the node asked, and whether every node sees the same. */
export interface LocatedContentItem extends PveContentItem {
  storage: string;
  node: string;
  shared: boolean;
}

export interface ContentFilter {
  node?: string;
  storage?: string;
  vmid?: number;
}

export interface FailedRead {
  node: string;
  storage: string;
  error: string;
}

export interface ContentListing {
  target: string;
  items: LocatedContentItem[];
  /** Offline nodes (from /cluster/resources) and nodes whose content call failed. */
  unavailableNodes: string[];
  failed: FailedRead[];
}

/** One row of GET /nodes/{node}/storage (numbers may arrive as strings). */
interface NodeStorageRow {
  storage: string;
  content?: string;
  active?: number | string;
  enabled?: number | string;
  shared?: number | string;
}

const splitContent = (value: string | undefined): string[] => (value ?? '').split(/[,;\s]+/);

interface Source {
  storage: string;
  node: string;
  shared: boolean;
}

/**
 * Reads storage content for list_isos, list_templates and list_backups: the storages come from the one
 * /cluster/resources call, then ONE content call per storage holding that content type. A shared storage has the
 * same content from every node, so it is read once (from the requested node, else the first node where it is
 * available), not once per node as the reference did (its §9 #26); a local storage is read on each node. A node or
 * storage that fails degrades the listing (`failed`, `unavailableNodes`) instead of failing it.
 */
@Injectable()
export class StorageContentService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
  ) {}

  async list(content: string, filter: ContentFilter, target?: string): Promise<ContentListing> {
    const snap = await this.resources.clusterResources('storage', target);
    let sources = this.sources(snap.items, content, filter);
    if (filter.storage && !sources.length) {
      // a PVE-compatible server may list no storages in /cluster/resources: ask the node(s) themselves
      sources = await this.nodeStorageSources(content, filter.storage, filter.node, target);
    }
    if (filter.storage && !sources.length && !snap.items.some((r) => r.storage === filter.storage)) {
      throw new DomainError('NOT_FOUND', `storage '${filter.storage}' does not exist`, {
        hint: 'get_storage lists the storages with the content types they hold.',
      });
    }
    const unavailable = new Set(snap.unavailableNodes.filter((n) => !filter.node || n === filter.node));
    const failed: FailedRead[] = [];
    const client = this.gateway.client(target);
    const results = await Promise.all(
      sources.map(async (source) => {
        try {
          const items = await client.get<PveContentItem[]>(
            pvePath`/nodes/${source.node}/storage/${source.storage}/content`,
            { content, vmid: filter.vmid },
          );
          return (items ?? []).map((item) => ({ ...item, ...source }));
        } catch (error) {
          if (!isDomainError(error) || !error.code.startsWith('UPSTREAM_')) throw error;
          if (error.code === 'UPSTREAM_UNAVAILABLE') unavailable.add(source.node);
          failed.push({ ...source, error: error.message });
          return [];
        }
      }),
    );
    return {
      target: snap.target,
      items: results.flat().filter((item) => item.content === content),
      unavailableNodes: [...unavailable].sort(),
      failed,
    };
  }

  /** The content of one storage as one node sees it (exact lookups before a delete or restore). */
  async on(
    node: string,
    storage: string,
    content: string | undefined,
    target?: string,
  ): Promise<PveContentItem[]> {
    const items = await this.gateway
      .client(target)
      .get<PveContentItem[]>(pvePath`/nodes/${node}/storage/${storage}/content`, { content });
    return items ?? [];
  }

  /**
   * The fallback for an explicit storage that /cluster/resources does not list: GET /nodes/{node}/storage on the
   * given node, else on every node /nodes reports online. A row counts when it is that storage, active and
   * enabled (when said), and holds the content type (when it says which it holds).
   */
  private async nodeStorageSources(
    content: string,
    storage: string,
    node: string | undefined,
    target?: string,
  ): Promise<Source[]> {
    const client = this.gateway.client(target);
    const nodes = node
      ? [node]
      : ((await client.get<Array<{ node: string; status?: string }>>('/nodes').catch(() => null)) ?? [])
          .filter((n) => n.status !== 'offline')
          .map((n) => String(n.node))
          .sort();
    const rows = await Promise.all(
      nodes.map(async (n) => {
        const list = await client.get<NodeStorageRow[]>(pvePath`/nodes/${n}/storage`).catch(() => null);
        return (list ?? []).map((r) => ({ ...r, node: n }));
      }),
    );
    const out: Source[] = [];
    for (const r of rows.flat()) {
      if (r.storage !== storage) continue;
      if (r.active !== undefined && num(r.active) !== 1) continue;
      if (r.enabled !== undefined && num(r.enabled) !== 1) continue;
      if (r.content !== undefined && !splitContent(r.content).includes(content)) continue;
      const shared = num(r.shared) === 1;
      if (shared && out.some((o) => o.storage === storage)) continue;
      out.push({ storage, node: r.node, shared });
    }
    return out;
  }

  /** Which (node, storage) pairs to read: storages with the content type, available, matching the filter. */
  private sources(rows: PveClusterResource[], content: string, filter: ContentFilter): Source[] {
    const holds = (r: PveClusterResource) => splitContent(r.content).includes(content);
    const candidates = rows
      .filter((r) => r.status === 'available' && holds(r))
      .filter((r) => !filter.storage || r.storage === filter.storage)
      .filter((r) => !filter.node || r.node === filter.node)
      .sort((a, b) => String(a.node).localeCompare(String(b.node)));
    const seenShared = new Set<string>();
    const out: Source[] = [];
    for (const r of candidates) {
      const storage = String(r.storage);
      const shared = num(r.shared) === 1;
      if (shared) {
        if (seenShared.has(storage)) continue;
        seenShared.add(storage);
      }
      out.push({ storage, node: String(r.node), shared });
    }
    return out;
  }
}

/** `local:iso/debian.iso` → `debian.iso`. */
export const fileNameOf = (volid: string): string => volid.replace(/^[^:]*:(?:[^/]*\/)?/, '');

export const createdAt = (ctime: unknown): string | undefined =>
  ctime === undefined || ctime === null || ctime === ''
    ? undefined
    : new Date(num(ctime) * 1000).toISOString();

/** target / partial / unavailable_nodes / failed / total / truncated of a listing. */
export function listingMeta(listing: ContentListing, total: number, limit: number) {
  return {
    target: listing.target,
    partial: listing.unavailableNodes.length > 0 || listing.failed.length > 0,
    unavailable_nodes: listing.unavailableNodes,
    failed: listing.failed,
    total,
    truncated: total > limit,
  };
}
