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
  NotEquals,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { GuestParamDto, TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsBooleanFlag } from '../../../common/validation/proxmox.validators.js';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import { SNAPNAME_MAX, SNAPNAME_RE, VM_TYPES, type VmType } from '../../guests/dto/guest-formats.js';
import { WaitQueryDto } from '../../guests/dto/wait-query.dto.js';

const VM_TYPE_DESCRIPTION = 'Guest type: qemu (VM, default) or lxc (container)';
const SNAPNAME_MESSAGE =
  "$property must be a snapshot name: a letter, then letters, digits, '_' or '-' (2-40 characters)";

/** `vm_type` is a validated enum here; the reference took any string and treated everything but "lxc" as qemu. */
export class VmTypeQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(VM_TYPES)
  @JSONSchema({ description: VM_TYPE_DESCRIPTION, default: 'qemu' })
  vm_type?: VmType;
}

export class SnapshotParamDto extends GuestParamDto {
  @IsString()
  @MaxLength(SNAPNAME_MAX)
  @Matches(SNAPNAME_RE, { message: SNAPNAME_MESSAGE })
  @JSONSchema({ description: 'Snapshot name (see list_snapshots)' })
  snapname: string;
}

export class CreateSnapshotBodyDto extends WaitOptionsDto {
  @IsString()
  @MaxLength(SNAPNAME_MAX)
  @Matches(SNAPNAME_RE, { message: SNAPNAME_MESSAGE })
  @NotEquals('current', {
    message: "$property 'current' is reserved by Proxmox (it names the present state)",
  })
  @JSONSchema({
    description: "Name of the new snapshot, e.g. before-upgrade (2-40 characters; not 'current')",
  })
  snapname: string;

  @IsOptional()
  @IsString()
  @MaxLength(8192)
  @JSONSchema({ description: 'What the snapshot is for' })
  description?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'qemu only: also save the RAM of a running VM, so a rollback resumes it where it was (default false)',
  })
  vmstate?: boolean;

  @IsOptional()
  @IsIn(VM_TYPES)
  @JSONSchema({ description: VM_TYPE_DESCRIPTION, default: 'qemu' })
  vm_type?: VmType;
}

export class RollbackSnapshotBodyDto extends WaitOptionsDto {
  @IsOptional()
  @IsIn(VM_TYPES)
  @JSONSchema({ description: VM_TYPE_DESCRIPTION, default: 'qemu' })
  vm_type?: VmType;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Start the guest after the rollback (default false; a VM snapshot with RAM always resumes running)',
  })
  start?: boolean;
}

export class DeleteSnapshotQueryDto extends WaitQueryDto {
  @IsOptional()
  @IsIn(VM_TYPES)
  @JSONSchema({ description: VM_TYPE_DESCRIPTION, default: 'qemu' })
  vm_type?: VmType;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'Remove it from the config even if deleting the disk snapshots fails (PVE force; default false)',
  })
  force?: boolean;
}

export class SnapshotDto {
  @IsString() name: string;
  @IsString() description: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'When it was taken (ISO 8601, UTC)' })
  created_at?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The snapshot this one was taken after' })
  parent?: string;

  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'Snapshots taken after this one, on top of it' })
  children: string[];

  @IsBoolean() @JSONSchema({ description: 'Includes the RAM of the running VM (qemu)' }) vmstate: boolean;
}

export class SnapshotListDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsIn(VM_TYPES) vm_type: VmType;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => SnapshotDto)
  @JSONSchema({ description: 'Oldest first' })
  snapshots: SnapshotDto[];

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The snapshot the current state derives from (absent when there is none)' })
  current_parent?: string;
}
