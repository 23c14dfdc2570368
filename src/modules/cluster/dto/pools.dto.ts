import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import { IsPoolId } from '../../../common/validation/proxmox.validators.js';
import { stacked } from '../../../common/validation/stacked.js';
import {
  STORAGE_ID_MAX,
  STORAGE_ID_PATTERN,
  VMID_MAX,
  VMID_MIN,
} from '../../../common/validation/proxmox-formats.js';

const POOLID_DESCRIPTION =
  "Pool ID (PVE pve-poolid): letters, digits, '.', '-', '_'; a nested pool is parent/child, at most 3 levels";
/** More members in one call than this is a mistake, not a pool change. */
const MAX_MEMBERS = 1000;
/** PVE keeps the comment in user.cfg; a few lines of text is what its GUI offers. */
const COMMENT_MAX = 4096;

export class PoolGuestDto {
  @IsInt() vmid: number;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsOptional() @IsString() name?: string;
  @IsString() node: string;
  @IsString()
  @JSONSchema({
    description: "PVE's status of the guest (running, stopped, unknown when its node is offline)",
  })
  status: string;
}

export class PoolDto {
  @IsString() poolid: string;
  @IsOptional() @IsString() comment?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PoolGuestDto)
  @JSONSchema({ description: 'The VMs and containers in the pool, by vmid' })
  guests: PoolGuestDto[];
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'The storages in the pool (storage IDs, sorted)' })
  storages: string[];
}

export class PoolListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => PoolDto) pools: PoolDto[];
}

/** The pool after create_pool or update_pool, and what the call changed. */
export class PoolChangeDto {
  @IsString() target: string;
  @ValidateNested() @Type(() => PoolDto) pool: PoolDto;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'What the call changed, one line each (e.g. "added guests 100, 101")' })
  changes: string[];
}

export class PoolDeletedDto {
  @IsString() target: string;
  @IsString() poolid: string;
  @Equals(true) deleted: true;
}

const IsPoolIdField = () => stacked(IsPoolId(), JSONSchema({ description: POOLID_DESCRIPTION }));

const CommentField = (description: string) =>
  stacked(IsOptional(), IsString(), MaxLength(COMMENT_MAX), JSONSchema({ description }));

/** A list of vmids (integers), each at most once. */
const VmidListField = (description: string) =>
  stacked(
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_MEMBERS),
    ArrayUnique(),
    IsInt({ each: true }),
    Min(VMID_MIN, { each: true }),
    Max(VMID_MAX, { each: true }),
    JSONSchema({ description }),
  );

/** A list of storage IDs, each at most once. */
const StorageListField = (description: string) =>
  stacked(
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_MEMBERS),
    ArrayUnique(),
    IsString({ each: true }),
    Matches(new RegExp(STORAGE_ID_PATTERN), {
      each: true,
      message: "each value in $property must be a Proxmox storage ID (letters, digits, '-', '_', '.')",
    }),
    MaxLength(STORAGE_ID_MAX, { each: true }),
    JSONSchema({ description }),
  );

/** The pool a route names: `/pools/{poolid}`, a nested pool's '/' sent as %2F. */
export class PoolParamDto {
  @IsPoolIdField() poolid: string;
}

export class CreatePoolBodyDto {
  @CommentField('Free-text comment shown beside the pool') comment?: string;
}

export class UpdatePoolBodyDto {
  @CommentField("The pool's new comment; an empty string clears it") comment?: string;
  @VmidListField('VMs and containers to add (vmids)') add_guests?: number[];
  @VmidListField('VMs and containers to take out of the pool (vmids)') remove_guests?: number[];
  @StorageListField('Storages to add (storage IDs)') add_storages?: string[];
  @StorageListField('Storages to take out of the pool (storage IDs)') remove_storages?: string[];
  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Move a guest of add_guests that is in another pool into this one (PVE allow-move); without it such a guest is refused. Default false.',
  })
  allow_move?: boolean;
}
