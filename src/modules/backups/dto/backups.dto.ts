import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { NodeParamDto } from '../../../common/dto/target.dto.js';
import { IsStorageId, IsVmid } from '../../../common/validation/proxmox.validators.js';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import {
  ContentListQueryDto,
  FailedReadDto,
  VolumeLocationDto,
} from '../../guests/dto/storage-content.dto.js';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import { WaitQueryDto } from '../../guests/dto/wait-query.dto.js';

/** vzdump's modes and compressors (the PVE schema's enums; the reference passed any string). */
export const BACKUP_MODES = ['snapshot', 'suspend', 'stop'] as const;
export const BACKUP_COMPRESSIONS = ['zstd', 'gzip', 'lzo', '0'] as const;
export type BackupMode = (typeof BACKUP_MODES)[number];
export type BackupCompression = (typeof BACKUP_COMPRESSIONS)[number];

/**
 * A backup volume ID: `<storage>:backup/<file>` (vzdump archives: vzdump-qemu-100-2025_01_15-02_00_00.vma.zst;
 * Proxmox Backup Server: backup/vm/100/2025-01-15T02:00:00Z). No `..`, no spaces.
 */
export const BACKUP_VOLID_RE =
  /^(?!.*\.\.)[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]:backup\/[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;
const BACKUP_VOLID_MESSAGE =
  '$property must be a backup volume ID such as nas:backup/vzdump-qemu-100-2025_01_15-02_00_00.vma.zst (see list_backups)';

// ------------------------------------------------------------------------------------------------ list

export class BackupListQueryDto extends ContentListQueryDto {
  @IsOptional()
  @IsVmid()
  @JSONSchema({ description: 'Only backups of this VM or container' })
  vmid?: number;
}

export class BackupItemDto extends VolumeLocationDto {
  @IsInt() @JSONSchema({ description: 'The VM or container the backup is of' }) vmid: number;

  @IsOptional()
  @IsIn(['qemu', 'lxc'])
  @JSONSchema({ description: 'qemu (VM) or lxc (container), when Proxmox or the archive name tells' })
  guest_type?: 'qemu' | 'lxc';

  @IsOptional() @IsString() @JSONSchema({ description: 'First line of the backup notes' }) notes?: string;

  @IsBoolean()
  @JSONSchema({
    description: 'Protected backups cannot be deleted (nor pruned) until the protection is removed',
  })
  protected: boolean;
}

export class BackupListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => BackupItemDto) backups: BackupItemDto[];
  @IsInt() total: number;
  @IsBoolean() truncated: boolean;
  @IsArray() @ValidateNested({ each: true }) @Type(() => FailedReadDto) failed: FailedReadDto[];
}

// ------------------------------------------------------------------------------------------------ create

export class BackupGuestParamDto extends NodeParamDto {
  @IsVmid()
  @JSONSchema({ description: 'The VM or container to back up (it must be on this node)' })
  vmid: number;
}

export class CreateBackupBodyDto extends WaitOptionsDto {
  @IsStorageId()
  @JSONSchema({ description: 'Storage to write the backup to (content type backup), e.g. nas' })
  storage: string;

  @IsOptional()
  @IsIn(BACKUP_MODES)
  @JSONSchema({
    description:
      'snapshot (default: no downtime), suspend (short pause) or stop (the guest is shut down for the backup and started again)',
    default: 'snapshot',
  })
  mode?: BackupMode;

  @IsOptional()
  @IsIn(BACKUP_COMPRESSIONS)
  @JSONSchema({ description: 'zstd (default), gzip, lzo, or 0 for none', default: 'zstd' })
  compress?: BackupCompression;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(/^[^\r\n]*$/, { message: '$property must be one line (write \\n for a line break)' })
  @JSONSchema({
    description:
      'Notes stored with the backup (one line; \\n starts a new one). {{guestname}}, {{node}}, {{vmid}} and {{cluster}} are filled in by Proxmox.',
  })
  notes?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description: 'Mark the backup protected: it cannot be deleted until unprotected (default false)',
  })
  protected?: boolean;
}

// ------------------------------------------------------------------------------------------------ restore

export class RestoreBackupBodyDto extends WaitOptionsDto {
  @IsString()
  @MaxLength(255)
  @Matches(BACKUP_VOLID_RE, { message: BACKUP_VOLID_MESSAGE })
  @JSONSchema({ description: 'Volume ID of the backup to restore (see list_backups)' })
  archive: string;

  @IsVmid()
  @JSONSchema({
    description:
      'ID of the restored guest. A free ID, or the ID of an existing guest of the same type with force',
  })
  vmid: number;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({
    description:
      'Storage for the restored disks. VMs: default the storages they were on. Containers: default the storage for containers with the most free space on the node',
  })
  storage?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Give the restored guest new MAC addresses (default true, so it can run beside the original)',
    default: true,
  })
  unique?: boolean;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Overwrite the existing guest with this ID (same type, same node, stopped, not protected): its current disks are destroyed. Default false',
    default: false,
  })
  force?: boolean;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Start the guest once restored (default false)' })
  start?: boolean;
}

// ------------------------------------------------------------------------------------------------ delete

export class BackupStorageParamDto extends NodeParamDto {
  @IsStorageId()
  @JSONSchema({ description: 'Storage holding the backup, e.g. nas' })
  storage: string;
}

export class DeleteBackupQueryDto extends WaitQueryDto {
  @IsString()
  @MaxLength(255)
  @Matches(BACKUP_VOLID_RE, { message: BACKUP_VOLID_MESSAGE })
  @JSONSchema({ description: 'Exact volume ID of the backup to delete (see list_backups)' })
  volid: string;
}
