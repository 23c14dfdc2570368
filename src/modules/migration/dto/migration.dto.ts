import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';

const NODE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
/** PVE storage-pair-list: one storage for all, or `source:target` pairs separated by commas. */
const STORAGE_MAP_RE =
  /^[a-z][a-z0-9\-_.]*[a-z0-9](?::[a-z][a-z0-9\-_.]*[a-z0-9])?(?:,[a-z][a-z0-9\-_.]*[a-z0-9]:[a-z][a-z0-9\-_.]*[a-z0-9])*$/i;

/** Shared by both tools; each subclass declares a field of its own, or the schema generator would not list it. */
class MigrateBodyDto extends WaitOptionsDto {
  @IsString()
  @Matches(NODE_RE, { message: '$property must be a node name such as pve2' })
  @MaxLength(63)
  @JSONSchema({ description: 'The node to move the guest to (get_nodes lists them); not the node it is on' })
  target_node: string;

  @IsOptional()
  @IsString()
  @Matches(STORAGE_MAP_RE, {
    message: '$property must be a storage ID, or source:target pairs (local-lvm:fast)',
  })
  @MaxLength(512)
  @JSONSchema({
    description:
      'Where its local disks go on the target node: one storage for all (`fast`) or `source:target` pairs ' +
      '(`local-lvm:fast,data:fast`); default: a storage of the same name there',
  })
  target_storage?: string;
}

export class MigrateVmBodyDto extends MigrateBodyDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @JSONSchema({
    description: 'Bandwidth limit for the copy in KiB/s (default: the datacenter or storage limit)',
  })
  bwlimit?: number;
}

export class MigrateContainerBodyDto extends MigrateBodyDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @JSONSchema({
    description: 'Bandwidth limit for the copy in KiB/s (default: the datacenter or storage limit)',
  })
  bwlimit?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3600)
  @JSONSchema({
    description:
      'A running container moves in restart mode: shut down, copied, started on the target. Seconds its ' +
      'shutdown may take before it is stopped (1-3600, default 180)',
    default: 180,
  })
  shutdown_timeout_seconds?: number;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Allow the restart of a running container (default true; false refuses to migrate a running container)',
    default: true,
  })
  restart?: boolean;
}
