import { Type } from 'class-transformer';
import {
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
import { IsVmid } from '../../../common/validation/proxmox.validators.js';
import { stacked } from '../../../common/validation/stacked.js';

/** PVE's requested states of an HA resource. */
export const HA_STATES = ['started', 'stopped', 'enabled', 'disabled', 'ignored'] as const;
export type HaState = (typeof HA_STATES)[number];

const STATE_DESCRIPTION =
  'Requested state: started (HA keeps the guest running, recovering it on another node when its node fails), ' +
  'stopped (kept stopped, still recovered), disabled (stopped and not recovered), ignored (HA leaves it alone), ' +
  'enabled (same as started)';
/** resources.cfg keeps the comment on one line; a few lines of text is what PVE's GUI offers. */
const COMMENT_MAX = 4096;
/** More tries than this only delays the relocation an operator wants. */
const TRIES_MAX = 100;

/** An HA rule naming a resource (PVE 9 rules replace HA groups). */
export class HaRuleDto {
  @IsString() rule: string;
  @IsIn(['node-affinity', 'resource-affinity'])
  @JSONSchema({
    description:
      'node-affinity: run on the listed nodes (by priority); resource-affinity: keep resources together or apart',
  })
  type: 'node-affinity' | 'resource-affinity';
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'node-affinity: the nodes, `node` or `node:priority`' })
  nodes?: string[];
  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'node-affinity: only these nodes (true) or preferred ones (false)' })
  strict?: boolean;
  @IsOptional()
  @IsIn(['positive', 'negative'])
  @JSONSchema({
    description: 'resource-affinity: kept on the same node (positive) or on separate nodes (negative)',
  })
  affinity?: 'positive' | 'negative';
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'The HA resources the rule names' })
  resources?: string[];
  @IsOptional() @IsBoolean() disabled?: boolean;
  @IsOptional() @IsString() comment?: string;
}

export class HaResourceDto {
  @IsString()
  @JSONSchema({ description: 'HA resource ID: vm:<vmid> for a VM, ct:<vmid> for a container' })
  sid: string;
  @IsInt() vmid: number;
  @IsIn(['vm', 'ct']) type: 'vm' | 'ct';
  @IsOptional() @IsString() name?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The node the guest is on (absent when the guest no longer exists)' })
  node?: string;
  @IsIn(HA_STATES) @JSONSchema({ description: STATE_DESCRIPTION }) state: HaState;
  @IsOptional()
  @IsString()
  @JSONSchema({
    description:
      "The HA manager's state of the resource (hastate: started, stopped, fence, recovery, migrate, error, …)",
  })
  ha_state?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The guest status (running, stopped, …)' })
  status?: string;
  @IsInt() max_restart: number;
  @IsInt() max_relocate: number;
  @IsBoolean()
  @JSONSchema({
    description: 'Migrate back to a preferred node of its node-affinity rule when it comes online',
  })
  failback: boolean;
  @IsOptional() @IsString() comment?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HaRuleDto)
  @JSONSchema({ description: 'The HA rules naming this resource (list_ha_resources only)' })
  rules?: HaRuleDto[];
}

export class HaResourceListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => HaResourceDto) resources: HaResourceDto[];
  @IsOptional()
  @IsString()
  @JSONSchema({
    description:
      'Digest of the HA resource configuration; pass it to update_ha_resource to refuse a concurrent change',
  })
  digest?: string;
}

export class HaNodeDto {
  @IsString() node: string;
  @IsString()
  @JSONSchema({ description: "The manager's view of the node: online, unknown, fence, maintenance, …" })
  status: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: "The node's local resource manager (LRM): active, idle, or why it is not" })
  lrm?: string;
}

export class HaServiceDto {
  @IsString() sid: string;
  @IsString() node: string;
  @IsString()
  @JSONSchema({ description: 'State as the manager sees it (started, stopped, fence, …)' })
  state: string;
  @IsOptional() @IsString() @JSONSchema({ description: 'The requested state' }) request_state?: string;
}

export class HaStatusDto {
  @IsString() target: string;
  @IsBoolean() quorate: boolean;
  @IsString() @JSONSchema({ description: "PVE's quorum line (OK, or what is wrong)" }) quorum: string;
  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'The node running the active HA manager (CRM master); absent while HA is unused',
  })
  manager_node?: string;
  @IsOptional() @IsString() @JSONSchema({ description: "The CRM master's status" }) manager_status?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Whether HA fencing is armed (PVE 9.1: armed, standby, disarming, disarmed)' })
  fencing?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => HaNodeDto) nodes: HaNodeDto[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => HaServiceDto) services: HaServiceDto[];
}

/** The guest an HA route names: `/ha/resources/{vmid}`. */
export class HaVmidParamDto {
  @IsVmid()
  @JSONSchema({ description: 'VM or container ID (100-999999999), e.g. 101.' })
  vmid: number;
}

const StateField = () =>
  stacked(IsOptional(), IsIn(HA_STATES), JSONSchema({ description: STATE_DESCRIPTION }));
const TriesField = (description: string) =>
  stacked(IsOptional(), IsInt(), Min(0), Max(TRIES_MAX), JSONSchema({ description }));
const CommentField = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    MaxLength(COMMENT_MAX),
    Matches(/^[^\n\r]*$/),
    JSONSchema({ description }),
  );
const FailbackField = () =>
  stacked(
    IsOptional(),
    IsBoolean(),
    JSONSchema({
      description:
        'Migrate the guest back to the preferred node of its node-affinity rule when that node comes online (PVE default true)',
    }),
  );

export class AddHaResourceBodyDto {
  @IsVmid()
  @JSONSchema({ description: 'The VM or container to put under HA (its type is looked up)' })
  vmid: number;
  @StateField() state?: HaState;
  @TriesField('Restarts on the same node after a failed start (PVE default 1)') max_restart?: number;
  @TriesField('Relocations to another node after the restarts failed (PVE default 1)') max_relocate?: number;
  @FailbackField() failback?: boolean;
  @CommentField('Free-text comment') comment?: string;
}

export class UpdateHaResourceBodyDto {
  @StateField() state?: HaState;
  @TriesField('Restarts on the same node after a failed start') max_restart?: number;
  @TriesField('Relocations to another node after the restarts failed') max_relocate?: number;
  @FailbackField() failback?: boolean;
  @CommentField('The new comment; an empty string clears it') comment?: string;
  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{40}$/)
  @JSONSchema({
    description:
      'The digest list_ha_resources returned: the change is refused when the HA configuration changed since',
  })
  digest?: string;
}

/** The resource after add_ha_resource or update_ha_resource, and what the call changed. */
export class HaResourceChangeDto {
  @IsString() target: string;
  @ValidateNested() @Type(() => HaResourceDto) resource: HaResourceDto;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'What the call changed, one line each' })
  changes: string[];
}

export class HaResourceRemovedDto {
  @IsString() target: string;
  @IsString() sid: string;
  @IsInt() vmid: number;
  @Equals(true) removed: true;
}
