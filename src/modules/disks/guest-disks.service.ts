import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import type { PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import {
  ContainerStateReader,
  ctLabel,
  upstreamSays,
  VmStateReader,
  type GuestConfig,
} from '../guests/guest-state.js';
import { pickStorage, type NodeStorage, type StorageContent } from '../guests/storage-picker.js';
import {
  assertNotLocked,
  configuredSize,
  driveVolume,
  formatPveSize,
  plannedSize,
  volumeStorageId,
} from './disk-size.js';
import type {
  MoveContainerVolumeBodyDto,
  MoveVmDiskBodyDto,
  ResizeContainerDiskBodyDto,
  ResizeVmDiskBodyDto,
} from './dto/disks.dto.js';

/** What differs between a VM disk and a container volume. */
interface Kind {
  path: 'qemu' | 'lxc';
  noun: string;
  content: StorageContent;
  configTool: string;
}
const VM: Kind = { path: 'qemu', noun: 'disk', content: 'images', configTool: 'get_vm_config' };
const CT: Kind = { path: 'lxc', noun: 'volume', content: 'rootdir', configTool: 'get_container_config' };

/**
 * resize_vm_disk, move_vm_disk, resize_container_disk and move_container_volume. Every refusal that can be known
 * from the config, the guest's state and the node's storages comes before the one tracked PVE task, so an operator
 * is never asked to approve a call PVE would refuse.
 */
@Injectable()
export class GuestDisksService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly vms: VmStateReader,
    private readonly cts: ContainerStateReader,
  ) {}

  async resizeVmDisk(node: string, vmid: number, dto: ResizeVmDiskBodyDto, target?: string): Promise<JobDto> {
    const { config } = await this.vms.config(node, vmid, target);
    const label = this.vms.label(node, vmid, nameOf(config));
    return this.resize(VM, node, vmid, label, config, dto.disk, dto, target);
  }

  async resizeContainerDisk(
    node: string,
    vmid: number,
    dto: ResizeContainerDiskBodyDto,
    target?: string,
  ): Promise<JobDto> {
    const { config } = await this.cts.config(node, vmid, target);
    const label = ctLabel(node, vmid, nameOf(config, 'hostname'));
    return this.resize(CT, node, vmid, label, config, dto.disk ?? 'rootfs', dto, target);
  }

  async moveVmDisk(node: string, vmid: number, dto: MoveVmDiskBodyDto, target?: string): Promise<JobDto> {
    const { config } = await this.vms.config(node, vmid, target);
    const label = this.vms.label(node, vmid, nameOf(config));
    const volid = this.volumeOf(VM, label, config, dto.disk);
    await this.assertTargetStorage(VM, node, volid, dto.storage, target, dto.format);
    const params: PveParams = {
      disk: dto.disk,
      storage: dto.storage,
      format: dto.format,
      delete: dto.delete,
      bwlimit: dto.bwlimit,
    };
    return this.track('move_vm_disk', `Move disk ${dto.disk} of VM ${vmid} to ${dto.storage}`, {
      node,
      vmid,
      target,
      wait: dto,
      request: { method: 'POST', path: pvePath`/nodes/${node}/qemu/${vmid}/move_disk`, params },
      metadata: {
        vmid,
        disk: dto.disk,
        from: volid,
        storage: dto.storage,
        delete_source: dto.delete ?? false,
      },
      taskType: 'qmmove',
    });
  }

  async moveContainerVolume(
    node: string,
    vmid: number,
    dto: MoveContainerVolumeBodyDto,
    target?: string,
  ): Promise<JobDto> {
    const [{ config }, status] = await Promise.all([
      this.cts.config(node, vmid, target),
      this.cts.status(node, vmid, target),
    ]);
    const label = ctLabel(node, vmid, status.name ?? nameOf(config, 'hostname'));
    const volid = this.volumeOf(CT, label, config, dto.volume);
    if (status.status === 'running') {
      // pve-container: "cannot move volumes of a running container"
      throw new DomainError(
        'CONFLICT',
        `${label} is running: Proxmox moves a container's volumes only while it is stopped`,
        {
          hint: 'Stop it first (stop_container), move the volume, then start it again.',
          details: { status: status.status },
        },
      );
    }
    await this.assertTargetStorage(CT, node, volid, dto.storage, target);
    const params: PveParams = {
      volume: dto.volume,
      storage: dto.storage,
      delete: dto.delete,
      bwlimit: dto.bwlimit,
    };
    return this.track('move_container_volume', `Move ${dto.volume} of CT ${vmid} to ${dto.storage}`, {
      node,
      vmid,
      target,
      wait: dto,
      request: { method: 'POST', path: pvePath`/nodes/${node}/lxc/${vmid}/move_volume`, params },
      metadata: {
        vmid,
        volume: dto.volume,
        from: volid,
        storage: dto.storage,
        delete_source: dto.delete ?? false,
      },
      taskType: 'move_volume',
    });
  }

  private async resize(
    kind: Kind,
    node: string,
    vmid: number,
    label: string,
    config: GuestConfig['config'],
    disk: string,
    dto: ResizeVmDiskBodyDto | ResizeContainerDiskBodyDto,
    target?: string,
  ): Promise<JobDto> {
    this.volumeOf(kind, label, config, disk);
    const current = configuredSize(String(config[disk]));
    if (current === undefined) {
      throw new DomainError(
        'CONFLICT',
        `${disk} of ${label} has no size in its config: Proxmox cannot resize it`,
        {
          hint: `${kind.configTool} shows the ${kind.noun}.`,
        },
      );
    }
    const newBytes = plannedSize(`${disk} of ${label}`, current, dto.size);
    const tool = kind === VM ? 'resize_vm_disk' : 'resize_container_disk';
    const guest = kind === VM ? 'VM' : 'CT';
    try {
      return await this.track(tool, `Resize ${disk} of ${guest} ${vmid} to ${formatPveSize(newBytes)}`, {
        node,
        vmid,
        target,
        wait: dto,
        request: {
          method: 'PUT',
          path: pvePath`/nodes/${node}/${kind.path}/${vmid}/resize`,
          params: { disk, size: dto.size, digest: dto.digest },
        },
        metadata: { vmid, disk, from_bytes: current, to_bytes: newBytes },
        taskType: 'resize',
      });
    } catch (error) {
      if (upstreamSays(error, /checksum mis+match|detected modified configuration/)) {
        throw new DomainError(
          'CONFLICT',
          `The configuration of ${label} changed since it was read; ${disk} was not resized`,
          {
            hint: `Read it again with ${kind.configTool} and retry (with its digest).`,
          },
        );
      }
      throw error;
    }
  }

  /** The volume id behind a config key (of a guest no task holds); NOT_FOUND naming the keys that exist when there is none. */
  private volumeOf(kind: Kind, label: string, config: GuestConfig['config'], key: string): string {
    assertNotLocked(label, config);
    const value = config[key];
    const volid = value === undefined ? undefined : driveVolume(String(value));
    if (volid && volumeStorageId(volid) && !/media=cdrom/.test(String(value))) return volid;
    const keys = Object.keys(config).filter(
      (k) => diskKey(kind, k) && !/media=cdrom/.test(String(config[k])),
    );
    throw new DomainError(
      'NOT_FOUND',
      value === undefined
        ? `${label} has no ${kind.noun} ${key}`
        : `${key} of ${label} is not a ${kind.noun} on a storage (${String(value)})`,
      {
        hint: `Its ${kind.noun}s: ${keys.join(', ') || 'none'} (${kind.configTool} shows them).`,
        details: { field: kind === VM ? 'disk' : 'volume' },
      },
    );
  }

  /** The target storage exists on the node, is active there and holds the content; not the storage it is on. */
  private async assertTargetStorage(
    kind: Kind,
    node: string,
    volid: string,
    storage: string,
    target?: string,
    format?: string,
  ): Promise<void> {
    const rows = await this.gateway.client(target).get<NodeStorage[]>(pvePath`/nodes/${node}/storage`);
    pickStorage(rows ?? [], node, kind.content, { wanted: storage });
    if (volumeStorageId(volid) === storage && (format === undefined || volid.endsWith(`.${format}`))) {
      throw new DomainError('VALIDATION', `${volid} is already on storage '${storage}'`, {
        hint: 'Choose another storage (get_storage lists them).',
        details: { field: 'storage' },
      });
    }
  }

  private track(
    toolName: string,
    summary: string,
    spec: {
      node: string;
      vmid: number;
      target?: string;
      wait: { wait?: boolean; wait_timeout_seconds?: number };
      request: { method: 'POST' | 'PUT'; path: string; params: PveParams };
      metadata: Record<string, unknown>;
      taskType: string;
    },
  ): Promise<JobDto> {
    return this.jobs.track(
      {
        toolName,
        summary,
        target: spec.target,
        node: spec.node,
        request: spec.request,
        metadata: spec.metadata,
        expectedTask: { type: spec.taskType, id: String(spec.vmid) },
      },
      { wait: spec.wait.wait, timeoutSeconds: spec.wait.wait_timeout_seconds },
    );
  }
}

function diskKey(kind: Kind, key: string): boolean {
  return kind === VM
    ? /^(?:ide\d|sata\d|scsi\d+|virtio\d+|efidisk0|tpmstate0)$/.test(key)
    : key === 'rootfs' || /^mp\d+$/.test(key);
}

function nameOf(config: GuestConfig['config'], key = 'name'): string | undefined {
  const value = config[key];
  return typeof value === 'string' ? value : undefined;
}
