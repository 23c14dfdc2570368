import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsIntParam, IsVmid } from '../../../common/validation/proxmox.validators.js';
import { REVERTABLE_ENDPOINTS } from '../../../audit/changes/revertable.js';

export const CHANGE_KINDS = REVERTABLE_ENDPOINTS.map((e) => e.kind);
export const CHANGES_PAGE_DEFAULT = 20;
export const CHANGES_PAGE_MAX = 200;

/** Filters of list_changes / GET /changes; all optional, newest first. */
export class ChangeListQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(CHANGE_KINDS)
  @JSONSchema({ description: `Only changes of this kind of object: ${CHANGE_KINDS.join(', ')}` })
  kind?: string;

  @IsOptional()
  @IsVmid()
  @JSONSchema({ description: 'Only changes of this VM or container (its config, firewall, HA resource)' })
  vmid?: number;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,95}$/, { message: '$property must be a tool name such as update_vm_config' })
  @JSONSchema({ description: 'Only changes made by this tool, e.g. update_vm_config, revert_change' })
  tool?: string;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(CHANGES_PAGE_MAX)
  @JSONSchema({
    description: `At most this many changes (default ${CHANGES_PAGE_DEFAULT}, at most ${CHANGES_PAGE_MAX})`,
  })
  limit?: number;
}

export class ChangeIdParamDto {
  @IsIntParam({ message: '$property must be a change id (an integer, see list_changes)' })
  @Min(1)
  @JSONSchema({ description: 'The change to put back (its id from list_changes)' })
  id: number;
}

export class ChangeDto {
  @IsInt() @JSONSchema({ description: 'Change id (pass to revert_change)' }) id: number;
  @IsString() @JSONSchema({ description: 'When (ISO 8601, UTC)' }) at: string;
  @IsOptional() @IsString() @JSONSchema({ description: 'The tool that made it' }) tool?: string;
  @IsOptional() @IsString() @JSONSchema({ description: 'API key name of the caller' }) actor?: string;
  @IsString() @JSONSchema({ description: 'Proxmox target' }) target: string;
  @IsIn(CHANGE_KINDS) @JSONSchema({ description: 'What kind of object changed' }) kind: string;
  @IsString() @JSONSchema({ description: 'The PVE API path of the object' }) path: string;
  @IsOptional() @IsString() node?: string;
  @IsOptional() @IsInt() vmid?: number;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'The fields the change changed' })
  fields: string[];

  @IsObject()
  @JSONSchema({
    description: 'The changed fields before the change (absent = not set); secrets are [redacted]',
  })
  before: Record<string, string | number>;

  @IsObject()
  @JSONSchema({ description: 'The changed fields after the change (absent = removed)' })
  after: Record<string, string | number>;

  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'This change was a revert of that change' })
  revert_of?: number;

  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'This change was put back by that change' })
  reverted_by?: number;
}

export class ChangeListDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => ChangeDto) changes: ChangeDto[];
  @IsInt() @JSONSchema({ description: 'Changes matching the filters' }) total: number;
  @IsInt() limit: number;
}

export class RevertResultDto {
  @IsInt() @JSONSchema({ description: 'The change that was put back' }) reverted_change_id: number;
  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'The journal entry of the revert itself (revert it to redo the change)' })
  change_id?: number;
  @IsString() target: string;
  @IsIn(CHANGE_KINDS) kind: string;
  @IsString() path: string;
  @IsArray() @IsString({ each: true }) @JSONSchema({ description: 'The fields set back' }) fields: string[];
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'Fields that could not be put back (secrets are never stored)' })
  skipped_fields: string[];
  @IsObject()
  @JSONSchema({ description: 'The fields as they are now (what the change had before)' })
  restored: Record<string, string | number>;
}
