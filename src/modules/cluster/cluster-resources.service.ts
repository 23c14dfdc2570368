import { Injectable } from '@nestjs/common';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';

export type ResourceType = 'vm' | 'node' | 'storage';

export interface ResourceSnapshot {
  target: string;
  items: PveClusterResource[];
  /** Nodes that are not online: their guests and storages come back as 'unknown' or stale. */
  unavailableNodes: string[];
}

/**
 * The inventory source for every list tool: ONE /cluster/resources call per request (never node × guest
 * fan-out), and node availability from the same answer, so an offline node degrades the result instead of
 * failing it. The gateway coalesces identical concurrent calls.
 */
@Injectable()
export class ClusterResourcesService {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async snapshot(type: ResourceType, target?: string): Promise<ResourceSnapshot> {
    const client = this.gateway.client(target);
    const targetName = this.gateway.targetConfig(target).name;
    if (type === 'node') {
      const items = await client.get<PveClusterResource[]>('/cluster/resources', { type: 'node' });
      return { target: targetName, items, unavailableNodes: offline(items) };
    }
    // Nodes come in the same unfiltered call so availability and inventory are one consistent snapshot.
    const all = await client.get<PveClusterResource[]>('/cluster/resources');
    return {
      target: targetName,
      items: all.filter((r) => (type === 'vm' ? r.type === 'qemu' || r.type === 'lxc' : r.type === type)),
      unavailableNodes: offline(all.filter((r) => r.type === 'node')),
    };
  }
}

const offline = (nodes: PveClusterResource[]): string[] =>
  nodes
    .filter((n) => n.type === 'node' && n.status !== 'online')
    .map((n) => String(n.node))
    .sort();
