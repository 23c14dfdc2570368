import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto, WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import type { PveMutation } from '../../jobs/job.types.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { upstreamSays } from '../guests/guest-state.js';
import {
  canSnapshot,
  FILE_STORAGE_TYPES,
  snapshotCapableText,
  volumeFormat,
} from '../guests/storage-features.js';
import type { NodeStorage } from '../guests/storage-picker.js';
import type {
  CreateSnapshotBodyDto,
  DeleteSnapshotQueryDto,
  RollbackSnapshotBodyDto,
  SnapshotListDto,
} from './dto/snapshots.dto.js';
import type { VmType } from '../guests/dto/guest-formats.js';
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
    await this.assertCanSnapshot(node, vmid, type, target);
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
   * PVE finds a disk that cannot be snapshotted only inside the task ("snapshot feature is not available"): read
   * the guest's disks and their storages first and refuse, naming each such disk, its storage and format, and
   * what would work. Storage types this server cannot judge are left to PVE.
   */
  private async assertCanSnapshot(node: string, vmid: number, type: VmType, target?: string): Promise<void> {
    const client = this.gateway.client(target);
    let config: Record<string, unknown>;
    try {
      config =
        (await client.get<Record<string, unknown>>(pvePath`/nodes/${node}/${type}/${vmid}/config`)) ?? {};
    } catch (error) {
      throw guestNotFound(error, node, vmid, type);
    }
    const disks = guestDisks(type, config);
    if (!disks.length) return;
    const storages = (await client.get<NodeStorage[]>(pvePath`/nodes/${node}/storage`)) ?? [];
    const typeOf = new Map(storages.map((s) => [s.storage, s.type]));
    const refused = disks
      .map((d) => {
        const storageType = typeOf.get(d.storage);
        const format = storageType === undefined ? undefined : volumeFormat(d.volid, type);
        return { ...d, storage_type: storageType ?? null, format: format ?? null };
      })
      .filter(
        (d) => d.storage_type !== null && canSnapshot(d.storage_type, d.format ?? 'raw', type) === false,
      );
    if (!refused.length) return;
    const what = refused
      .map((d) => `${d.disk} (${d.volid}) is ${d.format} on storage ${d.storage} (${d.storage_type})`)
      .join('; ');
    const first = refused[0];
    const move =
      type === 'qemu'
        ? `qm disk move ${vmid} ${first.disk} <storage>${FILE_STORAGE_TYPES.includes(first.storage_type ?? '') ? `, or --format qcow2 to keep it on ${first.storage}` : ''}`
        : `pct move-volume ${vmid} ${first.disk} <storage>`;
    throw new DomainError(
      'CONFLICT',
      `${GUEST[type]} ${vmid} on node ${node} cannot take a snapshot: ${what}, which cannot be snapshotted; nothing was sent`,
      {
        hint:
          `Snapshots work on ${snapshotCapableText(type)}. Move the disk to such a storage in Proxmox ` +
          `(Hardware/Resources → Disk Action → Move Storage; \`${move}\`), or make a backup instead (create_backup).`,
        details: { disks: refused },
      },
    );
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

/** qemu drive keys (QemuServer::Drive::is_valid_drivename). */
const QEMU_DRIVE = /^(?:ide[0-3]|sata[0-5]|scsi(?:[12]?\d|30)|virtio(?:1[0-5]|\d)|efidisk0|tpmstate0)$/;

/**
 * The volumes a snapshot covers, as PVE's has_feature walks them: qemu drives except CD-ROMs (cloud-init drives
 * are CD-ROMs) and `none`; a container's rootfs and mount points with a storage volume (bind mounts are paths).
 */
function guestDisks(
  type: VmType,
  config: Record<string, unknown>,
): Array<{ disk: string; volid: string; storage: string }> {
  const out: Array<{ disk: string; volid: string; storage: string }> = [];
  for (const [key, value] of Object.entries(config)) {
    const isDisk = type === 'qemu' ? QEMU_DRIVE.test(key) : key === 'rootfs' || /^mp\d+$/.test(key);
    if (!isDisk || typeof value !== 'string') continue;
    const parts = value.split(',');
    const file = (
      parts.find((p) => !p.includes('=')) ??
      parts.find((p) => /^(?:file|volume)=/.test(p)) ??
      ''
    ).replace(/^(?:file|volume)=/, '');
    if (parts.includes('media=cdrom') || file === 'cdrom' || file === 'none') continue;
    const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(file);
    if (m) out.push({ disk: key, volid: file, storage: m[1] });
  }
  return out;
}
