import { DomainError } from '../../common/errors/domain-error.js';
import type { ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { asUnknownNode } from './guest-state.js';

/**
 * A NIC's bridge must exist on the node (Linux, OVS or an SDN VNet: /nodes/{node}/network?type=any_bridge);
 * PVE itself would only fail at the guest's next start. Used by create_container, update_container_network and
 * update_vm_config.
 */
export async function assertBridgeExists(client: ProxmoxClient, node: string, bridge: string): Promise<void> {
  let bridges: Array<{ iface?: string }>;
  try {
    bridges = (await client.get(pvePath`/nodes/${node}/network`, { type: 'any_bridge' })) ?? [];
  } catch (error) {
    throw asUnknownNode(error, node);
  }
  if (bridges.some((b) => b.iface === bridge)) return;
  throw new DomainError('VALIDATION', `network_bridge: there is no bridge '${bridge}' on node ${node}`, {
    hint: `Bridges on ${node}: ${bridges.map((b) => String(b.iface)).join(', ') || 'none'} (list_bridges).`,
  });
}
