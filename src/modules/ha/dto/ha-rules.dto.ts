import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsVmid } from '../../../common/validation/proxmox.validators.js';
import { stacked } from '../../../common/validation/stacked.js';
import { HaRuleDto } from './ha.dto.js';

export const HA_RULE_TYPES = ['node-affinity', 'resource-affinity'] as const;
export type HaRuleType = (typeof HA_RULE_TYPES)[number];

/** pve-configid: a letter, then letters, digits, '-' and '_' (PVE's limit is 64 characters in all). */
const RULE_ID_RE = /^[a-z][a-z0-9_-]{1,63}$/i;
/** `vm:100`, `ct:101`, or a bare vmid (its HA resource is looked up). */
const RESOURCE_RE = /^(?:(?:vm|ct):)?[1-9]\d{2,8}$/;
/** pve-ha-node-list entry: `node` or `node:priority` (a non-negative integer; higher is preferred). */
const NODE_PRIO_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?::\d{1,9})?$/;
const MAX_MEMBERS = 1000;
const COMMENT_MAX = 4096;

const RULE_DESCRIPTION =
  'HA rule ID: starts with a letter, then letters, digits, - or _ (2-64 characters), e.g. keep-db-apart';

export class HaRuleParamDto {
  @IsString()
  @Matches(RULE_ID_RE, {
    message: '$property must be an HA rule ID: a letter, then letters, digits, - or _ (2-64 characters)',
  })
  @JSONSchema({ description: RULE_DESCRIPTION })
  rule: string;
}

export class HaRuleListQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(HA_RULE_TYPES)
  @JSONSchema({ description: 'Only rules of this type: node-affinity or resource-affinity' })
  type?: HaRuleType;
  @IsOptional()
  @IsVmid()
  @JSONSchema({ description: 'Only rules naming this guest (its HA resource vm:<vmid> or ct:<vmid>)' })
  vmid?: number;
}

const ResourcesField = (optional: boolean) =>
  stacked(
    ...(optional ? [IsOptional()] : []),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_MEMBERS),
    ArrayUnique(),
    IsString({ each: true }),
    Matches(RESOURCE_RE, {
      each: true,
      message: '$property must list HA resources as vm:<vmid>, ct:<vmid> or a bare vmid (e.g. vm:100, 101)',
    }),
    JSONSchema({
      description:
        'The HA resources the rule applies to: vm:<vmid>, ct:<vmid> or a bare vmid (list_ha_resources lists ' +
        'them); a resource-affinity rule needs at least two',
    }),
  );
const NodesField = () =>
  stacked(
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_MEMBERS),
    ArrayUnique(),
    IsString({ each: true }),
    Matches(NODE_PRIO_RE, {
      each: true,
      message:
        '$property must list nodes as `node` or `node:priority` (priority a non-negative integer), e.g. pve1:2',
    }),
    JSONSchema({
      description:
        'node-affinity only (required there): the nodes, each `node` or `node:priority`; the resources run on ' +
        'the online nodes of the highest priority (default 0)',
    }),
  );
const StrictField = () =>
  stacked(
    IsOptional(),
    IsBoolean(),
    JSONSchema({
      description:
        'node-affinity only: true = the resources may run only on these nodes (stopped when none is online); ' +
        'false (default) = preferred nodes',
    }),
  );
const AffinityField = () =>
  stacked(
    IsOptional(),
    IsIn(['positive', 'negative']),
    JSONSchema({
      description:
        'resource-affinity only (required there): positive = keep the resources on the same node, negative = ' +
        'on separate nodes',
    }),
  );
const DisabledField = () =>
  stacked(
    IsOptional(),
    IsBoolean(),
    JSONSchema({ description: 'true = the rule is kept but not applied; false enables it again' }),
  );
const CommentField = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    MaxLength(COMMENT_MAX),
    Matches(/^[^\n\r]*$/, { message: '$property must be one line' }),
    JSONSchema({ description }),
  );

export class AddHaRuleBodyDto {
  @IsString()
  @Matches(RULE_ID_RE, {
    message: '$property must be an HA rule ID: a letter, then letters, digits, - or _ (2-64 characters)',
  })
  @JSONSchema({ description: RULE_DESCRIPTION })
  rule: string;
  @IsIn(HA_RULE_TYPES)
  @JSONSchema({
    description:
      'node-affinity: run the resources on the listed nodes (by priority); resource-affinity: keep the ' +
      'resources together (positive) or apart (negative)',
  })
  type: HaRuleType;
  @ResourcesField(false) resources: string[];
  @NodesField() nodes?: string[];
  @StrictField() strict?: boolean;
  @AffinityField() affinity?: 'positive' | 'negative';
  @DisabledField() disabled?: boolean;
  @CommentField('Free-text comment') comment?: string;
}

export class UpdateHaRuleBodyDto {
  @ResourcesField(true) resources?: string[];
  @NodesField() nodes?: string[];
  @StrictField() strict?: boolean;
  @AffinityField() affinity?: 'positive' | 'negative';
  @DisabledField() disabled?: boolean;
  @CommentField('The new comment; an empty string clears it') comment?: string;
  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{40,64}$/, { message: '$property must be the digest list_ha_rules returned' })
  @JSONSchema({
    description: 'The digest list_ha_rules returned: the change is refused when the rules changed since',
  })
  digest?: string;
}

export class HaRuleListDto {
  @IsString() target: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => HaRuleDto) rules: HaRuleDto[];
  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'Digest of the HA rules; pass it to update_ha_rule to refuse a concurrent change',
  })
  digest?: string;
}

export class HaRuleChangeDto {
  @IsString() target: string;
  @ValidateNested() @Type(() => HaRuleDto) rule: HaRuleDto;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'What the call changed, one line each' })
  changes: string[];
}

export class HaRuleRemovedDto {
  @IsString() target: string;
  @IsString() rule: string;
  @Equals(true) removed: true;
}
