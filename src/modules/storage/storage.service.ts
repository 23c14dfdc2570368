import { Injectable } from '@nestjs/common';
import { num, percent } from '../../common/format/human.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { StorageDto, StorageListDto, StorageQueryDto } from './dto/storage.dto.js';

/**
 * Storage from the same single /cluster/resources call: a shared storage is one entry (seen from every node),
 * a local one is one entry per node.
 */
@Injectable()
export class StorageService {
  constructor(private readonly resources: InventoryService) {}

  async getStorage(q: StorageQueryDto): Promise<StorageListDto> {
    const snap = await this.resources.clusterResources('storage', q.target);
    const rows = snap.items.filter((r) => !q.node || r.node === q.node);
    const byKey = new Map<string, StorageDto>();
    for (const r of rows) {
      const shared = num(r.shared) === 1;
      const key = shared ? String(r.storage) : `${r.storage}@${r.node}`;
      const existing = byKey.get(key);
      if (existing) {
        existing.nodes.push(String(r.node));
        if (existing.status !== 'available' && r.status === 'available')
          Object.assign(existing, toStorage(r));
        continue;
      }
      byKey.set(key, { ...toStorage(r), nodes: [String(r.node)] });
    }
    const storages = [...byKey.values()].sort(
      (a, b) => a.storage.localeCompare(b.storage) || a.nodes[0].localeCompare(b.nodes[0]),
    );
    for (const s of storages) s.nodes.sort();
    return {
      target: snap.target,
      storages,
      partial: snap.unavailableNodes.length > 0,
      unavailable_nodes: snap.unavailableNodes,
    };
  }
}

function toStorage(r: PveClusterResource): Omit<StorageDto, 'nodes'> {
  return {
    storage: String(r.storage),
    type: String(r.plugintype ?? 'unknown'),
    status: String(r.status ?? 'unknown'),
    shared: num(r.shared) === 1,
    content: r.content ? String(r.content).split(',').filter(Boolean).sort() : [],
    usage: {
      used_bytes: num(r.disk),
      total_bytes: num(r.maxdisk),
      used_percent: percent(num(r.disk), num(r.maxdisk)),
    },
  };
}
