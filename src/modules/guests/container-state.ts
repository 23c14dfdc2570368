import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { upstreamSays } from './vm-state.js';

export interface ContainerStatus {
  status: string;
  name?: string;
  lock?: string;
}

export interface ContainerConfig {
  digest: string;
  config: Record<string, string | number>;
}

/** "CT 101 (web) on node pve1": how every message names a container. */
export function ctLabel(node: string, vmid: number, name?: string): string {
  return name ? `CT ${vmid} (${name}) on node ${node}` : `CT ${vmid} on node ${node}`;
}

/**
 * PVE's "Configuration file 'nodes/pve1/lxc/999.conf' does not exist" (also for a VM's id, or a container on another
 * node) as NOT_FOUND naming the container and node; any other error unchanged.
 */
export function asCtNotFound(error: unknown, node: string, vmid: number): unknown {
  if (upstreamSays(error, /Configuration file .* does not exist/)) {
    return new DomainError('NOT_FOUND', `Container ${vmid} not found on node ${node}`, {
      hint: 'get_containers lists every container with the node it is on (IDs of VMs are not containers).',
    });
  }
  return asUnknownNode(error, node);
}

/** pveproxy's DNS fallback for a node name that is not a cluster member, as NOT_FOUND naming the node. */
export function asUnknownNode(error: unknown, node: string): unknown {
  if (upstreamSays(error, /hostname lookup '.*' failed/)) {
    return new DomainError('NOT_FOUND', `Node '${node}' is not part of the cluster`, {
      hint: 'get_nodes lists the nodes.',
    });
  }
  return error;
}

/** Reads a container's current status and config, with a clear NOT_FOUND for a container not on that node. */
@Injectable()
export class ContainerStateReader {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async status(node: string, vmid: number, target?: string): Promise<ContainerStatus> {
    try {
      const s = await this.gateway
        .client(target)
        .get<Record<string, unknown>>(pvePath`/nodes/${node}/lxc/${vmid}/status/current`);
      return {
        status: typeof s?.status === 'string' ? s.status : 'unknown',
        ...(typeof s?.name === 'string' ? { name: s.name } : {}),
        ...(typeof s?.lock === 'string' ? { lock: s.lock } : {}),
      };
    } catch (error) {
      throw asCtNotFound(error, node, vmid);
    }
  }

  async config(node: string, vmid: number, target?: string): Promise<ContainerConfig> {
    try {
      const raw = await this.gateway
        .client(target)
        .get<Record<string, string | number>>(pvePath`/nodes/${node}/lxc/${vmid}/config`);
      const { digest, ...config } = raw ?? {};
      return { digest: String(digest ?? ''), config };
    } catch (error) {
      throw asCtNotFound(error, node, vmid);
    }
  }
}
