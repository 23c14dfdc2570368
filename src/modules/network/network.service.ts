import { Injectable } from '@nestjs/common';
import { num } from '../../common/format/human.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveNetworkInterface } from '../../proxmox/pve-types.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { BridgeDto, BridgeListDto, BridgeQueryDto } from './dto/network.dto.js';

/** Bridges per node (network config is per node in PVE; there is no cluster-wide listing). */
@Injectable()
export class NetworkService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
  ) {}

  async listBridges(q: BridgeQueryDto): Promise<BridgeListDto> {
    const client = this.gateway.client(q.target);
    const snap = await this.resources.clusterResources('node', q.target);
    const nodes = q.node
      ? [q.node]
      : snap.items.filter((n) => n.status === 'online').map((n) => String(n.node));
    const unavailable = new Set(q.node ? [] : snap.unavailableNodes);
    const perNode = await Promise.all(
      nodes.map(async (node) => {
        try {
          const ifaces = await client.get<PveNetworkInterface[]>(pvePath`/nodes/${node}/network`, {
            type: 'any_bridge',
          });
          return ifaces.map((i) => toBridge(node, i));
        } catch (error) {
          if (q.node) throw error; // asked for one node: its failure is the answer
          unavailable.add(node);
          return [];
        }
      }),
    );
    return {
      target: snap.target,
      bridges: perNode.flat().sort((a, b) => a.node.localeCompare(b.node) || a.iface.localeCompare(b.iface)),
      partial: unavailable.size > 0,
      unavailable_nodes: [...unavailable].sort(),
    };
  }
}

function toBridge(node: string, i: PveNetworkInterface): BridgeDto {
  return {
    node,
    iface: String(i.iface),
    type: String(i.type),
    active: num(i.active) === 1,
    autostart: num(i.autostart) === 1,
    ports: i.bridge_ports ? String(i.bridge_ports).split(/\s+/).filter(Boolean) : [],
    ...(i.cidr ? { cidr: String(i.cidr) } : {}),
    ...(i.gateway ? { gateway: String(i.gateway) } : {}),
    ...(i.bridge_vlan_aware !== undefined ? { vlan_aware: num(i.bridge_vlan_aware) === 1 } : {}),
    ...(i.comments ? { comments: String(i.comments).trim() } : {}),
  };
}
