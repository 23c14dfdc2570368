import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { planCheck } from '../../common/plan/plan-mode.js';
import { pvePath } from '../../proxmox/pve-path.js';

/** The parts of a VM's `status/current` the tools decide on. */
export interface VmStatus {
  status: string;
  /** QEMU's own state: `running`, `paused`, `prelaunch`, … (only while the process exists). */
  qmpstatus?: string;
  name?: string;
}

export interface ContainerStatus {
  status: string;
  name?: string;
  lock?: string;
}

/** A guest's config without its `digest`, and the digest a PUT can send back to refuse concurrent edits. */
export interface GuestConfig {
  digest: string;
  config: Record<string, string | number>;
}
export type VmConfig = GuestConfig;
export type ContainerConfig = GuestConfig;

/** True when a Proxmox error's text matches (the client keeps PVE's message in DomainError.message). */
export function upstreamSays(error: unknown, pattern: RegExp): error is DomainError {
  return isDomainError(error) && error.code.startsWith('UPSTREAM_') && pattern.test(error.message);
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

/**
 * The same "Configuration file … does not exist" for a container (also for a VM's id, or a container on another
 * node) as NOT_FOUND naming the container and node; an unknown node as asUnknownNode; any other error unchanged.
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

/** "CT 101 (web) on node pve1": how every message names a container. */
export function ctLabel(node: string, vmid: number, name?: string): string {
  return name ? `CT ${vmid} (${name}) on node ${node}` : `CT ${vmid} on node ${node}`;
}

/** What differs between reading a VM and a container: PVE's path word, the status fields kept, the 404. */
interface GuestKind<S> {
  path: 'qemu' | 'lxc';
  status: (raw: Record<string, unknown> | null | undefined) => S;
  notFound: (error: unknown, node: string, vmid: number) => unknown;
}

const text = (raw: Record<string, unknown> | null | undefined, key: string): { [k: string]: string } =>
  typeof raw?.[key] === 'string' ? { [key]: raw[key] } : {};

/**
 * Reads a guest's current status and config, with a clear NOT_FOUND for a guest that is not on that node.
 * Decorated itself so TypeScript records its constructor's parameter types, which Nest injects into the subclasses.
 */
@Injectable()
abstract class GuestStateReader<S> {
  protected abstract readonly kind: GuestKind<S>;

  constructor(private readonly gateway: ProxmoxGateway) {}

  async status(node: string, vmid: number, target?: string): Promise<S> {
    try {
      const raw = await this.gateway
        .client(target)
        .get<Record<string, unknown>>(pvePath`/nodes/${node}/${this.kind.path}/${vmid}/status/current`);
      const status = this.kind.status(raw);
      planCheck('guest_state', true, guestFact(this.kind.path, node, vmid, raw));
      return status;
    } catch (error) {
      throw this.notFound(error, node, vmid);
    }
  }

  async config(node: string, vmid: number, target?: string): Promise<GuestConfig> {
    try {
      const raw = await this.gateway
        .client(target)
        .get<Record<string, string | number>>(pvePath`/nodes/${node}/${this.kind.path}/${vmid}/config`);
      const { digest, ...config } = raw ?? {};
      const label = `${this.kind.path === 'qemu' ? 'VM' : 'CT'} ${vmid} on ${node}`;
      planCheck('guest_config', true, `${label}: config digest ${String(digest ?? '')}`);
      return { digest: String(digest ?? ''), config };
    } catch (error) {
      throw this.notFound(error, node, vmid);
    }
  }

  /** The 404 of this kind; in a dry run also the failed `guest_exists` check. */
  private notFound(error: unknown, node: string, vmid: number): unknown {
    const mapped = this.kind.notFound(error, node, vmid);
    if (isDomainError(mapped) && mapped.code === 'NOT_FOUND')
      planCheck('guest_exists', false, mapped.message);
    return mapped;
  }
}

@Injectable()
export class VmStateReader extends GuestStateReader<VmStatus> {
  protected readonly kind: GuestKind<VmStatus> = {
    path: 'qemu',
    status: (raw) => ({
      status: typeof raw?.status === 'string' ? raw.status : 'unknown',
      ...text(raw, 'qmpstatus'),
      ...text(raw, 'name'),
    }),
    notFound: asVmNotFound,
  };

  label(node: string, vmid: number, name?: string): string {
    return name ? `VM ${vmid} (${name}) on node ${node}` : `VM ${vmid} on node ${node}`;
  }
}

@Injectable()
export class ContainerStateReader extends GuestStateReader<ContainerStatus> {
  protected readonly kind: GuestKind<ContainerStatus> = {
    path: 'lxc',
    status: (raw) => ({
      status: typeof raw?.status === 'string' ? raw.status : 'unknown',
      ...text(raw, 'name'),
      ...text(raw, 'lock'),
    }),
    notFound: asCtNotFound,
  };
}

/** The facts of a guest's state a plan shows (and its digest binds): status, QEMU state, lock. */
function guestFact(
  path: 'qemu' | 'lxc',
  node: string,
  vmid: number,
  raw: Record<string, unknown> | null | undefined,
): string {
  const label = `${path === 'qemu' ? 'VM' : 'CT'} ${vmid} on ${node}`;
  const status = typeof raw?.status === 'string' ? raw.status : 'unknown';
  const qmp = typeof raw?.qmpstatus === 'string' && raw.qmpstatus !== status ? ` (${raw.qmpstatus})` : '';
  const lock = typeof raw?.lock === 'string' && raw.lock ? `, locked (${raw.lock})` : ', not locked';
  return `${label} is ${status}${qmp}${lock}`;
}
