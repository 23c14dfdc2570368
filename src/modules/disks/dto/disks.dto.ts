import { applyDecorators } from '@nestjs/common';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsStorageId } from '../../../common/validation/proxmox.validators.js';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import { RESIZE_SIZE_RE } from '../disk-size.js';

/** qemu drive keys (QemuServer::Drive::is_valid_drivename) that hold a disk. */
export const VM_DISK_RE =
  /^(?:ide[0-3]|sata[0-5]|scsi(?:[12]?\d|30)|virtio(?:1[0-5]|\d)|efidisk0|tpmstate0)$/;
/** A container's volumes: rootfs and mount points mp0 … mp255. */
export const CT_VOLUME_RE = /^(?:rootfs|mp(?:\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5]))$/;

const SIZE_DESCRIPTION =
  'The new size, e.g. `40G` (absolute) or `+8G` (added to the current size); units K, M, G, T (powers of 1024), ' +
  'none = bytes. Disks only grow: a smaller size is refused with VALIDATION.';
const DIGEST_DESCRIPTION =
  'The config digest (get_vm_config / get_container_config): the change is refused if the config changed since';

/** `size` of both resize tools: absolute or relative, checked against the current size by the service. */
const ResizeSize = () =>
  applyDecorators(
    IsString(),
    Matches(RESIZE_SIZE_RE, { message: '$property must be a size like 40G or +8G' }),
    JSONSchema({ description: SIZE_DESCRIPTION }),
  );

/** The optional config digest PVE compares before it changes anything. */
const ConfigDigest = () =>
  applyDecorators(IsOptional(), IsString(), MaxLength(64), JSONSchema({ description: DIGEST_DESCRIPTION }));

export class ResizeVmDiskBodyDto extends WaitOptionsDto {
  @IsString()
  @Matches(VM_DISK_RE, {
    message: '$property must be a disk key such as scsi0, virtio1, sata0, ide0 or efidisk0',
  })
  @JSONSchema({
    description: 'The disk to grow, as in the VM config: scsi0, virtio0, sata0, ide0, efidisk0 …',
  })
  disk: string;

  @ResizeSize()
  size: string;

  @ConfigDigest()
  digest?: string;
}

export class ResizeContainerDiskBodyDto extends WaitOptionsDto {
  @IsOptional()
  @IsString()
  @Matches(CT_VOLUME_RE, { message: '$property must be rootfs or mp0 … mp255' })
  @JSONSchema({
    description: 'The volume to grow: rootfs (default) or a mount point mp0 … mp255',
    default: 'rootfs',
  })
  disk?: string;

  @ResizeSize()
  size: string;

  @ConfigDigest()
  digest?: string;
}

class MoveBodyDto extends WaitOptionsDto {
  @IsStorageId()
  @JSONSchema({ description: 'The storage to move to; it must be active on the node and hold this content' })
  storage: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Delete the source volume once copied (default false: Proxmox keeps it in the config as an unusedN entry)',
    default: false,
  })
  delete?: boolean;

  @IsOptional()
  @IsInt()
  @JSONSchema({
    description: 'I/O bandwidth limit for the copy in KiB/s (default: the storage or datacenter limit)',
  })
  bwlimit?: number;
}

export class MoveVmDiskBodyDto extends MoveBodyDto {
  @IsString()
  @Matches(VM_DISK_RE, {
    message: '$property must be a disk key such as scsi0, virtio1, sata0, ide0 or efidisk0',
  })
  @JSONSchema({
    description: 'The disk to move, as in the VM config: scsi0, virtio0, sata0, ide0, efidisk0 …',
  })
  disk: string;

  @IsOptional()
  @IsIn(['raw', 'qcow2', 'vmdk'])
  @JSONSchema({ description: 'Image format on the target storage (file storages only; default: keep it)' })
  format?: 'raw' | 'qcow2' | 'vmdk';
}

export class MoveContainerVolumeBodyDto extends MoveBodyDto {
  @IsString()
  @Matches(CT_VOLUME_RE, { message: '$property must be rootfs or mp0 … mp255' })
  @JSONSchema({ description: 'The volume to move: rootfs or a mount point mp0 … mp255' })
  volume: string;
}

/** convert_container_to_template: PVE converts a container at once (no task). */
export class ContainerTemplateResultDto {
  @IsString()
  @JSONSchema({ description: 'Node of the container' })
  node: string;

  @IsInt()
  @JSONSchema({ description: 'ID of the container, now a template' })
  vmid: number;

  @IsBoolean()
  @JSONSchema({ description: 'true: the container is a template (clone_container makes containers from it)' })
  template: boolean;
}
