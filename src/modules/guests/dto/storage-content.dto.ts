import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsIntParam, IsNodeName, IsStorageId } from '../../../common/validation/proxmox.validators.js';

// Storage content (ISO images, container templates, backups): the filters and rows the isos and backups tools share.

/** Filters of list_isos / list_templates (and list_backups, which adds vmid). */
export class ContentListQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only storages on this node (a shared storage is read through it)' })
  node?: string;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({ description: 'Only this storage' })
  storage?: string;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(5000)
  @JSONSchema({ description: 'At most this many items (default 1000)' })
  limit?: number;
}

/** Where a listed volume lives. */
export class VolumeLocationDto {
  @IsString()
  @JSONSchema({ description: 'Volume ID, e.g. local:iso/debian-12.iso: what delete_iso and create_vm take' })
  volid: string;

  @IsString()
  @JSONSchema({ description: 'File name (the volume ID after the content directory)' })
  name: string;
  @IsString() storage: string;

  @IsString()
  @JSONSchema({ description: 'Node the storage was read on (any node sees a shared storage the same)' })
  node: string;

  @IsBoolean() @JSONSchema({ description: 'Shared storage: the same volume on every node' }) shared: boolean;
  @IsString() format: string;
  @IsInt() size_bytes: number;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Creation time (ISO 8601, UTC), when PVE reports one' })
  created_at?: string;
}

/** A storage that could not be read; the listing is partial without it. */
export class FailedReadDto {
  @IsString() node: string;
  @IsString() storage: string;
  @IsString() error: string;
}
