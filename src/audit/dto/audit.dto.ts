import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsIntParam, IsTargetName } from '../../common/validation/proxmox.validators.js';
import { AUDIT_OUTCOMES, type AuditOutcome } from '../audit-event.entity.js';

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 500;

/** Filters of list_audit_events / GET /audit/events; all optional, newest events first. */
export class AuditQueryDto {
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/)
  @JSONSchema({ description: 'Only events of this API key name (e.g. ci, env:MCP_API_KEY, stdio)' })
  actor?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_.:]{0,95}$/)
  @JSONSchema({
    description: 'Only this action: a tool name (delete_vm) or auth.failed, approval.approve, …',
  })
  action?: string;

  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  @JSONSchema({ description: 'Only events with this outcome' })
  outcome?: AuditOutcome;

  @IsOptional()
  @IsTargetName()
  @JSONSchema({ description: 'Only events on this target' })
  target?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  @JSONSchema({ description: 'Only events at or after this time (ISO 8601, e.g. 2025-01-31T00:00:00Z)' })
  since?: string;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  @JSONSchema({ description: `At most this many events (default ${AUDIT_PAGE_DEFAULT})` })
  limit?: number;

  @IsOptional()
  @IsIntParam()
  @Min(0)
  @Max(10_000_000)
  @JSONSchema({ description: 'Skip this many events (paging; see next_offset)' })
  offset?: number;
}

export class AuditEventDto {
  @IsInt() id: number;
  @IsString() @JSONSchema({ description: 'When (ISO 8601, UTC)' }) at: string;
  @IsOptional() @IsString() @JSONSchema({ description: 'API key name; null when unidentified' }) actor:
    string | null;
  @IsString() @JSONSchema({ description: 'Tool name or action such as auth.failed' }) action: string;
  @IsOptional() @IsString() target: string | null;
  @IsIn(AUDIT_OUTCOMES) outcome: AuditOutcome;
  @IsOptional() @IsString() @JSONSchema({ description: 'Why it was refused or failed' }) reason:
    string | null;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'SHA-256 of the canonical, redacted arguments' })
  args_digest: string | null;

  @IsOptional()
  @IsObject()
  @JSONSchema({ description: 'Redacted facts (job id, via, address)' })
  details: Record<string, unknown> | null;
}

export class AuditEventListDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => AuditEventDto) events: AuditEventDto[];
  @IsInt() @JSONSchema({ description: 'Events matching the filters' }) total: number;
  @IsInt() limit: number;
  @IsInt() offset: number;
  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'Pass as offset for the next page; absent on the last page' })
  next_offset?: number;
  @IsBoolean() @JSONSchema({ description: 'More events match than were returned' }) truncated: boolean;
}
