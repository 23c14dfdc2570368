import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto, WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import type { PveMutation } from '../../jobs/job.types.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { upstreamSays } from '../vms/vm-state.js';
import type {
  CreateSnapshotBodyDto,
  DeleteSnapshotQueryDto,
  RollbackSnapshotBodyDto,
  SnapshotListDto,
  VmType,
} from './dto/snapshots.dto.js';
import { toSnapshotList, type PveSnapshot } from './snapshots.mapper.js';

const GUEST = { qemu: 'VM', lxc: 'CT' } as const;
const TASKS = {
  qemu: { create: 'qmsnapshot', rollback: 'qmrollback', delete: 'qmdelsnapshot' },
  lxc: { create: 'vzsnapshot', rollback: 'vzrollback', delete: 'vzdelsnapshot' },
} as const;

/** Snapshots of VMs (qemu) and containers (lxc): list, create, roll back, delete. Mutations are jobs. */
@Injectable()
export class SnapshotsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
  ) {}

  async list(node: string, vmid: number, type: VmType, target?: string): Promise<SnapshotListDto> {
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      vm_type: type,
      ...toSnapshotList(await this.read(node, vmid, type, target)),
    };
  }

  async create(node: string, vmid: number, dto: CreateSnapshotBodyDto, target?: string): Promise<JobDto> {
    const type = dto.vm_type ?? 'qemu';
    if (dto.vmstate && type === 'lxc') {
      // pve-container has no RAM snapshots; its API has no vmstate parameter at all
      throw new DomainError(
        'VALIDATION',
        'vmstate is for VMs (vm_type qemu) only: containers have no RAM snapshot',
        {
          hint: 'Leave vmstate out for a container snapshot.',
        },
      );
    }
    return this.track(
      {
        type,
        node,
        vmid,
        action: 'create',
        summary: `Snapshot '${dto.snapname}' of ${GUEST[type]} ${vmid} on ${node}`,
        request: {
          method: 'POST',
          path: pvePath`/nodes/${node}/${type}/${vmid}/snapshot`,
          params: {
            snapname: dto.snapname,
            description: dto.description,
            ...(type === 'qemu' && dto.vmstate !== undefined ? { vmstate: dto.vmstate } : {}),
          },
        },
        metadata: { snapname: dto.snapname, ...(type === 'qemu' ? { vmstate: dto.vmstate ?? false } : {}) },
      },
      dto,
      target,
    );
  }

  /**
   * Rolls back to any existing snapshot, children or not, exactly as PVE allows. The reference refused whenever
   * the snapshot had a child (its bug #13), but only some storages need the target to be the newest snapshot
   * (ZFS, for one): on those PVE itself fails the task with "can't rollback, 'x' is not most recent snapshot on
   * '<volume>'", which the job reports. On LVM-thin, qcow2, Ceph … a rollback past children works and keeps them.
   */
  async rollback(
    node: string,
    vmid: number,
    snapname: string,
    dto: RollbackSnapshotBodyDto,
    target?: string,
  ): Promise<JobDto> {
    const type = dto.vm_type ?? 'qemu';
    await this.assertExists(node, vmid, type, snapname, target);
    return this.track(
      {
        type,
        node,
        vmid,
        action: 'rollback',
        summary: `Roll back ${GUEST[type]} ${vmid} on ${node} to '${snapname}'`,
        request: {
          method: 'POST',
          path: pvePath`/nodes/${node}/${type}/${vmid}/snapshot/${snapname}/rollback`,
          ...(dto.start !== undefined ? { params: { start: dto.start } } : {}),
        },
        metadata: { snapname, ...(dto.start !== undefined ? { start: dto.start } : {}) },
      },
      dto,
      target,
    );
  }

  async remove(node: string, vmid: number, snapname: string, dto: DeleteSnapshotQueryDto): Promise<JobDto> {
    const type = dto.vm_type ?? 'qemu';
    await this.assertExists(node, vmid, type, snapname, dto.target);
    return this.track(
      {
        type,
        node,
        vmid,
        action: 'delete',
        summary: `Delete snapshot '${snapname}' of ${GUEST[type]} ${vmid} on ${node}`,
        request: {
          method: 'DELETE',
          path: pvePath`/nodes/${node}/${type}/${vmid}/snapshot/${snapname}`,
          ...(dto.force !== undefined ? { params: { force: dto.force } } : {}),
        },
        metadata: { snapname, ...(dto.force ? { force: true } : {}) },
      },
      dto,
      dto.target,
    );
  }

  // ---------------------------------------------------------------------------------------------------------

  private track(
    op: {
      type: VmType;
      node: string;
      vmid: number;
      action: keyof (typeof TASKS)['qemu'];
      summary: string;
      request: PveMutation;
      metadata: Record<string, unknown>;
    },
    wait: WaitOptionsDto,
    target?: string,
  ): Promise<JobDto> {
    const { type, node, vmid, action } = op;
    return this.jobs
      .track(
        {
          toolName: `${action}_snapshot`,
          summary: op.summary,
          target,
          node,
          request: op.request,
          metadata: { vmid, vm_type: type, ...op.metadata },
          recipeKind: `snapshot.${action}`,
          expectedTask: { type: TASKS[type][action], id: String(vmid) },
        },
        { wait: wait.wait, timeoutSeconds: wait.wait_timeout_seconds },
      )
      .catch((error: unknown) => {
        throw guestNotFound(error, node, vmid, type);
      });
  }

  private async read(node: string, vmid: number, type: VmType, target?: string): Promise<PveSnapshot[]> {
    try {
      const rows = await this.gateway
        .client(target)
        .get<PveSnapshot[]>(pvePath`/nodes/${node}/${type}/${vmid}/snapshot`);
      return rows ?? [];
    } catch (error) {
      throw guestNotFound(error, node, vmid, type);
    }
  }

  /**
   * PVE reports a missing snapshot only inside the task; rollback and delete are destructive, so a wrong name is
   * caught here with the names that do exist.
   */
  private async assertExists(
    node: string,
    vmid: number,
    type: VmType,
    snapname: string,
    target?: string,
  ): Promise<void> {
    const names = (await this.read(node, vmid, type, target))
      .map((s) => s.name)
      .filter((n) => n !== 'current');
    if (!names.includes(snapname)) {
      throw new DomainError(
        'NOT_FOUND',
        `${GUEST[type]} ${vmid} on node ${node} has no snapshot '${snapname}'`,
        {
          hint: names.length
            ? `Its snapshots: ${names.join(', ')}.`
            : 'It has no snapshots (list_snapshots).',
        },
      );
    }
  }
}

/** "Configuration file … does not exist" as NOT_FOUND naming the guest, its type and node. */
function guestNotFound(error: unknown, node: string, vmid: number, type: VmType): unknown {
  if (upstreamSays(error, /Configuration file .* does not exist/)) {
    return new DomainError(
      'NOT_FOUND',
      `${GUEST[type]} ${vmid} not found on node ${node} (vm_type ${type})`,
      {
        hint:
          type === 'qemu'
            ? 'get_vms lists VMs with their nodes; for a container pass vm_type: "lxc".'
            : 'get_containers lists containers with their nodes; for a VM pass vm_type: "qemu".',
      },
    );
  }
  return error;
}
