import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto, UsageDto } from '../../../common/dto/usage.dto.js';

export const GUEST_STATUSES = ['running', 'stopped', 'paused', 'suspended', 'unknown'] as const;

/** One VM or container as the cluster inventory shows it. */
export class GuestSummaryDto {
  @IsInt() vmid: number;
  @IsString() name: string;
  @IsString() node: string;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsIn(GUEST_STATUSES) status: (typeof GUEST_STATUSES)[number];
  @IsInt() cpus: number;
  @IsNumber() @JSONSchema({ description: 'CPU usage in percent of the allocated cores' }) cpu_percent: number;
  @ValidateNested() @Type(() => UsageDto) memory: UsageDto;
  @IsInt() uptime_seconds: number;
  @IsArray() @IsString({ each: true }) tags: string[];
  @IsBoolean() template: boolean;
  @IsOptional() @IsString() lock?: string;
}

export class GuestListDto extends PartialResultDto {
  @IsInt() @JSONSchema({ description: 'Matching guests before limit/offset' }) total: number;
  @IsBoolean()
  @JSONSchema({ description: 'True when limit cut the list; page with offset' })
  truncated: boolean;
}

/** A guest's configuration as PVE stores it (keys and values verbatim), with the digest for safe edits. */
export class GuestConfigDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Pass back to config updates so a concurrent edit is refused, not overwritten' })
  digest?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The notes (PVE description), when the guest has any' })
  description?: string;
  @IsObject()
  @JSONSchema({ description: 'PVE configuration keys (net0, scsi0, memory, ...) with their raw values' })
  config: Record<string, string | number>;
}
