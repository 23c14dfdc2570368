import { Injectable } from '@nestjs/common';
import { planCheck } from '../../common/plan/plan-mode.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import type { PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import { ContainerStateReader, ctLabel, VmStateReader } from '../guests/guest-state.js';
import type { MigrateContainerBodyDto, MigrateVmBodyDto } from './dto/migration.dto.js';

/** GET …/migrate (migrate_vm_precondition); qemu and lxc spell the node lists differently. */
interface PvePrecondition {
  running?: boolean | number;
  allowed_nodes?: string[];
  not_allowed_nodes?: Record<string, { unavailable_storages?: string[] }>;
  'allowed-nodes'?: string[];
  'not-allowed-nodes'?: Record<string, { unavailable_storages?: string[] }>;
  local_disks?: Array<{ volid: string; cdrom?: boolean | number; is_unused?: boolean | number }>;
  local_resources?: string[];
}

/** What a migration check needs to know, for both guest kinds. */
interface Guest {
  path: 'qemu' | 'lxc';
  node: string;
  vmid: number;
  label: string;
  target: string;
  /** The configured Proxmox target (cluster) it is on. */
  cluster?: string;
  storageMapped: boolean;
  precondition: PvePrecondition;
  resources: PveClusterResource[];
}

const GiB = 1024 ** 3;

/**
 * migrate_vm and migrate_container. PVE's own precondition endpoint and one /cluster/resources read decide before
 * anything is sent: every blocker PVE would hit (local devices, storages the target lacks, a locked or HA-managed
 * guest, a target that is offline, unknown or short of memory) is refused with what to do instead.
 */
@Injectable()
export class MigrationService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly vms: VmStateReader,
    private readonly cts: ContainerStateReader,
  ) {}

  async migrateVm(node: string, vmid: number, dto: MigrateVmBodyDto, target?: string): Promise<JobDto> {
    const { config } = await this.vms.config(node, vmid, target);
    const label = this.vms.label(node, vmid, typeof config.name === 'string' ? config.name : undefined);
    assertNotLocked(label, config);
    const guest = await this.readGuest('qemu', node, vmid, label, dto, target);
    const pre = guest.precondition;
    const resources = pre.local_resources ?? [];
    if (resources.length) {
      throw new DomainError(
        'CONFLICT',
        `${label} uses host devices that tie it to ${node}: ${resources.join(', ')}`,
        {
          hint: 'Remove the passed-through devices (or use mapped devices) before migrating it.',
          details: { local_resources: resources },
        },
      );
    }
    const localDisks = pre.local_disks ?? [];
    const cdrom = localDisks.find((d) => d.cdrom);
    if (cdrom) {
      throw new DomainError('CONFLICT', `${label} has a local ISO in its CD drive (${cdrom.volid})`, {
        hint: 'Eject it (update_vm_config, e.g. ide2 none,media=cdrom) or use an ISO on a shared storage.',
        details: { volid: cdrom.volid },
      });
    }
    this.assertTarget(guest);
    const running = Boolean(pre.running);
    const params: PveParams = {
      target: dto.target_node,
      online: running || undefined,
      'with-local-disks': running && localDisks.length > 0 ? true : undefined,
      targetstorage: dto.target_storage,
      bwlimit: dto.bwlimit,
    };
    return this.track(
      'migrate_vm',
      `Migrate VM ${vmid} from ${node} to ${dto.target_node}`,
      guest,
      dto,
      params,
      {
        online: running,
        local_disks: localDisks.map((d) => d.volid),
      },
    );
  }

  async migrateContainer(
    node: string,
    vmid: number,
    dto: MigrateContainerBodyDto,
    target?: string,
  ): Promise<JobDto> {
    const { config } = await this.cts.config(node, vmid, target);
    const label = ctLabel(node, vmid, typeof config.hostname === 'string' ? config.hostname : undefined);
    assertNotLocked(label, config);
    const bind = Object.entries(config).find(
      ([key, value]) => /^mp\d+$/.test(key) && String(value).startsWith('/'),
    );
    if (bind) {
      throw new DomainError(
        'CONFLICT',
        `${label} has a bind mount of a host directory (${bind[0]}: ${String(bind[1])})`,
        {
          hint: 'A host directory does not move with the container: remove the mount point first.',
          details: { mount_point: bind[0] },
        },
      );
    }
    const guest = await this.readGuest('lxc', node, vmid, label, dto, target);
    const running = Boolean(guest.precondition.running);
    if (running && dto.restart === false) {
      throw new DomainError(
        'CONFLICT',
        `${label} is running and restart=false: containers cannot migrate live`,
        {
          hint: 'Allow the restart (restart=true, the default) or stop the container first.',
        },
      );
    }
    this.assertTarget(guest);
    const timeout = dto.shutdown_timeout_seconds ?? 180;
    const params: PveParams = {
      target: dto.target_node,
      restart: running || undefined,
      timeout: running ? timeout : undefined,
      'target-storage': dto.target_storage,
      bwlimit: dto.bwlimit,
    };
    return this.track(
      'migrate_container',
      `Migrate CT ${vmid} from ${node} to ${dto.target_node}${running ? ' (restart)' : ''}`,
      guest,
      dto,
      params,
      { restart: running, ...(running ? { shutdown_timeout_seconds: timeout } : {}) },
    );
  }

  /** The precondition answer and the cluster's resources, after the checks that need neither. */
  private async readGuest(
    path: 'qemu' | 'lxc',
    node: string,
    vmid: number,
    label: string,
    dto: MigrateVmBodyDto | MigrateContainerBodyDto,
    target?: string,
  ): Promise<Guest> {
    if (dto.target_node === node) {
      throw new DomainError('VALIDATION', `${label} is already on node ${node}`, {
        hint: 'Choose another node as target_node (get_nodes lists them).',
        details: { field: 'target_node' },
      });
    }
    const client = this.gateway.client(target);
    const [resources, precondition] = await Promise.all([
      client.get<PveClusterResource[]>('/cluster/resources'),
      client.get<PvePrecondition>(pvePath`/nodes/${node}/${path}/${vmid}/migrate`),
    ]);
    return {
      path,
      node,
      vmid,
      label,
      target: dto.target_node,
      cluster: target,
      storageMapped: dto.target_storage !== undefined,
      precondition: precondition ?? {},
      resources: resources ?? [],
    };
  }

  /** HA, the target node (member, online, enough free memory) and the storages it lacks. */
  private assertTarget(guest: Guest): void {
    const { label, target, resources } = guest;
    const row = resources.find((r) => r.type === guest.path && Number(r.vmid) === guest.vmid);
    if (row?.hastate && row.hastate !== 'ignored') {
      throw new DomainError('CONFLICT', `${label} is managed by HA (state ${row.hastate})`, {
        hint: `The HA manager places it: migrate_ha_resource (vmid ${guest.vmid}, target_node ${target}) has it moved online, relocate_ha_resource stopped, moved and started again; or take it out of HA first (remove_ha_resource).`,
        details: { hastate: row.hastate },
      });
    }
    planCheck('ha_managed', true, `${label} is not managed by HA`);
    const nodeRow = resources.find((r) => r.type === 'node' && r.node === target);
    if (!nodeRow) {
      throw new DomainError('NOT_FOUND', `Node '${target}' is not part of the cluster`, {
        hint: 'get_nodes lists the nodes.',
        details: { field: 'target_node' },
      });
    }
    if (nodeRow.status !== 'online') {
      throw new DomainError('CONFLICT', `Target node ${target} is ${nodeRow.status ?? 'not online'}`, {
        hint: 'Choose an online node (get_nodes shows their state).',
        details: { target_node: target, status: nodeRow.status },
      });
    }
    planCheck('target_node', true, `node ${target} is a cluster member and online`);
    const pre = guest.precondition;
    planCheck(
      'guest_running',
      true,
      `${label} is ${pre.running ? 'running (online migration)' : 'stopped (offline migration)'}`,
    );
    const blocked = (pre.not_allowed_nodes ?? pre['not-allowed-nodes'] ?? {})[target];
    const missing = blocked?.unavailable_storages ?? [];
    if (missing.length && !guest.storageMapped) {
      throw new DomainError(
        'CONFLICT',
        `Node ${target} lacks storage ${missing.join(', ')} that ${label} uses`,
        {
          hint: 'Set target_storage to a storage the target node has (get_storage lists them), or pick another node.',
          details: {
            unavailable_storages: missing,
            allowed_nodes: pre.allowed_nodes ?? pre['allowed-nodes'] ?? [],
          },
        },
      );
    }
    planCheck(
      'target_storage',
      true,
      `node ${target} has the storages ${label} uses${guest.storageMapped ? ' (mapped)' : ''}`,
    );
    const needed = Number(row?.maxmem ?? 0);
    const free = Number(nodeRow.maxmem ?? 0) - Number(nodeRow.mem ?? 0);
    if (pre.running && needed > free) {
      throw new DomainError(
        'CONFLICT',
        `Node ${target} has ${(free / GiB).toFixed(1)} GiB of memory free; ${label} needs ${(needed / GiB).toFixed(1)} GiB`,
        {
          hint: 'Choose a node with more free memory, or free memory there first.',
          details: { free_bytes: free, needed_bytes: needed },
        },
      );
    }
  }

  private track(
    toolName: string,
    summary: string,
    guest: Guest,
    wait: { wait?: boolean; wait_timeout_seconds?: number },
    params: PveParams,
    metadata: Record<string, unknown>,
  ): Promise<JobDto> {
    const { node, vmid, path } = guest;
    return this.jobs.track(
      {
        toolName,
        summary,
        target: guest.cluster,
        node,
        request: { method: 'POST', path: pvePath`/nodes/${node}/${path}/${vmid}/migrate`, params },
        metadata: { vmid, from_node: node, to_node: guest.target, ...metadata },
        expectedTask: { type: path === 'qemu' ? 'qmigrate' : 'vzmigrate', id: String(vmid) },
      },
      { wait: wait.wait, timeoutSeconds: wait.wait_timeout_seconds },
    );
  }
}

/** A config lock means a task (backup, snapshot, another migration …) holds the guest: PVE would refuse. */
function assertNotLocked(label: string, config: Record<string, string | number>): void {
  if (config.lock === undefined) return;
  throw new DomainError('CONFLICT', `${label} is locked (${String(config.lock)})`, {
    hint: 'Another task holds the guest (list_tasks shows it); retry once it has finished.',
    details: { lock: config.lock },
  });
}
