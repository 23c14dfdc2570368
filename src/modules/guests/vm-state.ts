import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';

/** The parts of a VM's `status/current` the tools decide on. */
export interface VmStatus {
  status: string;
  /** QEMU's own state: `running`, `paused`, `prelaunch`, … (only while the process exists). */
  qmpstatus?: string;
  name?: string;
}

export interface VmConfig {
  digest: string;
  config: Record<string, string | number>;
}

/**
 * PVE's "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist" (a 500 that names a file) as
 * NOT_FOUND naming the VM and node; any other error is returned unchanged.
 */
export function asVmNotFound(error: unknown, node: string, vmid: number): unknown {
  if (upstreamSays(error, /Configuration file .* does not exist/)) {
    return new DomainError('NOT_FOUND', `VM ${vmid} not found on node ${node}`, {
      hint: 'get_vms lists every VM with the node it is on (IDs of containers are not VMs).',
    });
  }
  return error;
}

export function rethrowVmNotFound(error: unknown, node: string, vmid: number): never {
  throw asVmNotFound(error, node, vmid);
}

/** True when a Proxmox error's text matches (the client keeps PVE's message in DomainError.message). */
export function upstreamSays(error: unknown, pattern: RegExp): error is DomainError {
  return isDomainError(error) && error.code.startsWith('UPSTREAM_') && pattern.test(error.message);
}

/** Reads a VM's current status and config, with a clear NOT_FOUND for a VM that is not on that node. */
@Injectable()
export class VmStateReader {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async status(node: string, vmid: number, target?: string): Promise<VmStatus> {
    try {
      const s = await this.gateway
        .client(target)
        .get<Record<string, unknown>>(pvePath`/nodes/${node}/qemu/${vmid}/status/current`);
      return {
        status: typeof s?.status === 'string' ? s.status : 'unknown',
        ...(typeof s?.qmpstatus === 'string' ? { qmpstatus: s.qmpstatus } : {}),
        ...(typeof s?.name === 'string' ? { name: s.name } : {}),
      };
    } catch (error) {
      rethrowVmNotFound(error, node, vmid);
    }
  }

  async config(node: string, vmid: number, target?: string): Promise<VmConfig> {
    try {
      const raw = await this.gateway
        .client(target)
        .get<Record<string, string | number>>(pvePath`/nodes/${node}/qemu/${vmid}/config`);
      const { digest, ...config } = raw ?? {};
      return { digest: String(digest ?? ''), config };
    } catch (error) {
      rethrowVmNotFound(error, node, vmid);
    }
  }

  label(node: string, vmid: number, name?: string): string {
    return name ? `VM ${vmid} (${name}) on node ${node}` : `VM ${vmid} on node ${node}`;
  }
}
