import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto, UsageDto } from '../../../common/dto/usage.dto.js';

export const NODE_STATUSES = ['online', 'offline', 'unknown'] as const;

export class NodeSummaryDto {
  @IsString() node: string;
  @IsIn(NODE_STATUSES) status: (typeof NODE_STATUSES)[number];
  @IsInt() uptime_seconds: number;
  @IsOptional() @IsInt() cpu_cores?: number;
  @IsNumber() @JSONSchema({ description: 'CPU usage in percent of all cores' }) cpu_percent: number;
  @ValidateNested() @Type(() => UsageDto) memory: UsageDto;
  @ValidateNested() @Type(() => UsageDto) disk: UsageDto;
}

export class NodeListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => NodeSummaryDto) nodes: NodeSummaryDto[];
}

export class NodeStatusDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsIn(NODE_STATUSES) status: (typeof NODE_STATUSES)[number];
  @IsInt() uptime_seconds: number;
  @IsOptional() @IsInt() cpu_cores?: number;
  @IsOptional() @IsInt() cpu_sockets?: number;
  @IsOptional() @IsString() cpu_model?: string;
  @IsNumber() cpu_percent: number;
  @IsArray() @IsNumber({}, { each: true }) load_average: number[];
  @ValidateNested() @Type(() => UsageDto) memory: UsageDto;
  @IsOptional() @ValidateNested() @Type(() => UsageDto) swap?: UsageDto;
  @IsOptional() @ValidateNested() @Type(() => UsageDto) rootfs?: UsageDto;
  @IsOptional() @IsString() pve_version?: string;
  @IsOptional() @IsString() kernel?: string;
  @IsBoolean()
  @JSONSchema({ description: 'True when the node did not answer and the figures come from the cluster view' })
  partial: boolean;
  @IsOptional() @IsString() warning?: string;
}

export class ClusterNodeDto {
  @IsString() name: string;
  @IsBoolean() online: boolean;
  @IsBoolean() local: boolean;
  @IsOptional() @IsInt() nodeid?: number;
  @IsOptional() @IsString() ip?: string;
}

export class ClusterStatusDto {
  @IsString() target: string;
  @IsBoolean()
  @JSONSchema({ description: 'A single node without corosync: there is no quorum to lose' })
  standalone: boolean;
  @IsOptional() @IsString() cluster_name?: string;
  @IsOptional() @IsBoolean() quorate?: boolean;
  @IsIn(['OK', 'NOT OK', 'n/a']) quorum: 'OK' | 'NOT OK' | 'n/a';
  @IsInt() nodes_total: number;
  @IsInt() nodes_online: number;
  @IsOptional() @IsInt() config_version?: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => ClusterNodeDto) nodes: ClusterNodeDto[];
}

export class TargetInfoDto {
  @IsString() name: string;
  @IsOptional() @IsString() description?: string;
  @IsString() host: string;
  @IsInt() port: number;
  @IsString()
  @JSONSchema({ description: 'The PVE user of the API token (the secret is never shown)' })
  user: string;
  @IsBoolean() read_only: boolean;
  @IsBoolean() tls_verified: boolean;
  @IsBoolean() reachable: boolean;
  @IsOptional() @IsString() pve_version?: string;
  @IsOptional() @IsString() error?: string;
}

export class TargetListDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => TargetInfoDto) targets: TargetInfoDto[];
  @IsOptional() @IsString() default_target?: string;
}
