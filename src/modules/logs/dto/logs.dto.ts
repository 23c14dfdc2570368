import { Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsIntParam } from '../../../common/validation/proxmox.validators.js';
import { VM_TYPES, type VmType } from '../../guests/dto/guest-formats.js';

export const LOG_LIMIT_DEFAULT = 50;
export const LOG_LIMIT_MAX = 500;
/** Far beyond any journal PVE pages through; keeps `start` a sane integer. */
export const LOG_START_MAX = 100_000_000;
/** The text of one answer stops growing here (a page of long lines must not flood a model's context). */
export const LOG_TEXT_CAP_BYTES = 256 * 1024;

/**
 * ISO-8601 (`2026-11-24`, `2026-11-24T20:15`, `2026-11-24T20:15:30Z`, `… +01:00`; a space may replace the T) or Unix
 * epoch seconds (at most 10 digits, so milliseconds are refused rather than read as a date in the year 50000).
 */
export const LOG_TIME_PATTERN =
  '^(\\d{1,10}|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}(:?\\d{2})?)?)?)$';
const LOG_TIME_MESSAGE =
  '$property must be an ISO-8601 date or date-time (e.g. 2026-11-24T20:15:00Z; UTC when no offset is given) or Unix epoch seconds';

/** since/until: numbers (MCP) and strings (query strings, MCP) alike; checked as text, parsed by the service. */
const LogTime = (description: string) => (target: object, property: string) => {
  Transform(({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value))(
    target,
    property,
  );
  IsOptional()(target, property);
  IsString({ message: LOG_TIME_MESSAGE })(target, property);
  Matches(new RegExp(LOG_TIME_PATTERN), { message: LOG_TIME_MESSAGE })(target, property);
  JSONSchema(() => ({ type: ['string', 'integer'], minimum: 0, pattern: LOG_TIME_PATTERN, description }))(
    target,
    property,
  );
};

/** start/limit/since/until: the firewall log's query, and the journal's with `service` (SyslogQueryDto). */
export class LogPageQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIntParam()
  @Min(0)
  @Max(LOG_START_MAX)
  @JSONSchema({
    description:
      'Index of the first line to return, counting from 0 (default 0). Pass the previous answer’s next_start to read on.',
  })
  start?: number;

  @IsOptional()
  @IsIntParam()
  @Min(1, { message: `limit must be 1-${LOG_LIMIT_MAX} lines per page` })
  @Max(LOG_LIMIT_MAX, {
    message: `limit must be 1-${LOG_LIMIT_MAX} lines per page; read longer logs page by page with start`,
  })
  @JSONSchema({
    description: `Lines per page, 1-${LOG_LIMIT_MAX} (default ${LOG_LIMIT_DEFAULT}). Longer logs are read page by page with start.`,
  })
  limit?: number;

  @LogTime('Only lines at or after this time: ISO-8601 (UTC when no offset is given) or Unix epoch seconds')
  since?: string;

  @LogTime('Only lines at or before this time (not before since): ISO-8601 or Unix epoch seconds')
  until?: string;
}

/** get_guest_firewall_log: the firewall log's paging and window, and which kind of guest vmid is. */
export class GuestFirewallLogQueryDto extends LogPageQueryDto {
  @IsOptional()
  @IsIn(VM_TYPES, { message: 'vm_type must be qemu (a VM) or lxc (a container)' })
  @JSONSchema({ description: 'Guest type: qemu (VM, default) or lxc (container)', default: 'qemu' })
  vm_type?: VmType;
}

/** systemd unit names: letters, digits and `:_.@-`, not starting with `-` (journalctl --unit takes it). */
export const SERVICE_PATTERN = '^[A-Za-z0-9:_.@][A-Za-z0-9:_.@-]{0,127}$';

export class SyslogQueryDto extends LogPageQueryDto {
  @IsOptional()
  @IsString()
  @Matches(new RegExp(SERVICE_PATTERN), {
    message:
      "service must be a systemd unit name such as pvedaemon, pveproxy.service or corosync: letters, digits, ':', '_', '.', '@', '-' (not first), at most 128 characters",
  })
  @JSONSchema({
    description:
      'Only this systemd unit, e.g. pvedaemon, pveproxy, pvestatd, pve-cluster, corosync, pve-firewall (".service" may be left out)',
    pattern: SERVICE_PATTERN,
    maxLength: 128,
  })
  service?: string;
}

export class ClusterLogQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIntParam()
  @Min(1, { message: `max must be 1-${LOG_LIMIT_MAX} entries` })
  @Max(LOG_LIMIT_MAX, { message: `max must be 1-${LOG_LIMIT_MAX} entries (the newest ones)` })
  @JSONSchema({
    description: `How many of the newest entries to return, 1-${LOG_LIMIT_MAX} (default ${LOG_LIMIT_DEFAULT})`,
  })
  max?: number;
}

// ------------------------------------------------------------------ results

export class LogLineDto {
  @IsInt() @JSONSchema({ description: 'Line number in the (filtered) log, from 1' }) n: number;
  @IsString() text: string;
  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'When the line was written (ISO-8601 UTC), where the log line carries a full date',
  })
  time?: string;
}

export class LogPageDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => LogLineDto) lines: LogLineDto[];
  @IsInt() @JSONSchema({ description: 'The start this page begins at' }) start: number;
  @IsInt()
  @JSONSchema({ description: 'Lines in the log after the since/until/service filters (0 when none match)' })
  total: number;
  @IsOptional()
  @IsInt()
  @JSONSchema({
    type: ['integer', 'null'],
    description: 'Pass as start to read the next page; null when this page reaches the end of the log',
  })
  next_start: number | null;
  @IsBoolean()
  @JSONSchema({
    description: `True when the page was cut short at ${LOG_TEXT_CAP_BYTES / 1024} KiB of text (next_start continues after the last line returned)`,
  })
  truncated: boolean;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The since filter applied (ISO-8601 UTC)' })
  since?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The until filter applied (ISO-8601 UTC)' })
  until?: string;
}

export class GuestFirewallLogPageDto extends LogPageDto {
  @IsInt() vmid: number;
  @IsIn(VM_TYPES) vm_type: VmType;
}

export class SyslogPageDto extends LogPageDto {
  @IsOptional() @IsString() service?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: "The node's time zone, in which journal lines show their time" })
  timezone?: string;
}

export class ClusterLogEntryDto {
  @IsInt() uid: number;
  @IsString() @JSONSchema({ description: 'ISO-8601 UTC' }) time: string;
  @IsString() node: string;
  @IsString()
  @JSONSchema({ description: 'Syslog severity: emerg, alert, crit, err, warning, notice, info, debug' })
  severity: string;
  @IsString() @JSONSchema({ description: 'The daemon that logged it, e.g. pvedaemon' }) tag: string;
  @IsOptional() @IsInt() pid?: number;
  @IsString() user: string;
  @IsString() msg: string;
}

export class ClusterLogDto {
  @IsString() target: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ClusterLogEntryDto)
  @JSONSchema({ description: 'Newest first' })
  entries: ClusterLogEntryDto[];
  @IsInt() max: number;
  @IsBoolean()
  @JSONSchema({
    description: `True when entries were left out to stay under ${LOG_TEXT_CAP_BYTES / 1024} KiB of text`,
  })
  truncated: boolean;
}
