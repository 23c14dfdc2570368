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
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import { IsNodeName, IsVmid } from '../../../common/validation/proxmox.validators.js';

// ---------------------------------------------------------------- replication

export const REPLICATION_STATES = ['ok', 'failing', 'syncing', 'disabled', 'unknown'] as const;
export type ReplicationState = (typeof REPLICATION_STATES)[number];

export class ReplicationQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only the jobs of guests on this node (default: every job in the cluster)' })
  node?: string;

  @IsOptional()
  @IsVmid()
  @JSONSchema({ description: 'Only the jobs of this VM or container' })
  vmid?: number;
}

export class ReplicationJobDto {
  @IsString() @JSONSchema({ description: 'Job ID, <vmid>-<jobnum>' }) id: string;
  @IsInt() vmid: number;
  @IsOptional() @IsIn(['qemu', 'lxc']) guest_type?: 'qemu' | 'lxc';
  @IsOptional() @IsString() @JSONSchema({ description: 'The node the guest runs on' }) source_node?: string;
  @IsString() target_node: string;
  @IsString() @JSONSchema({ description: 'Calendar event, e.g. */15 (every 15 minutes)' }) schedule: string;
  @IsIn(REPLICATION_STATES)
  @JSONSchema({
    description:
      'ok; failing (the last run failed, see error); syncing (running now); disabled; unknown (the source node did not answer)',
  })
  state: ReplicationState;
  @IsOptional() @IsString() last_sync?: string;
  @IsOptional() @IsString() last_try?: string;
  @IsOptional() @IsString() next_sync?: string;
  @IsOptional() @IsNumber() duration_seconds?: number;
  @IsInt() fail_count: number;
  @IsOptional() @IsString() error?: string;
  @IsOptional() @IsNumber() @JSONSchema({ description: 'Rate limit in MB/s' }) rate_mbps?: number;
  @IsOptional() @IsString() comment?: string;
}

export class ReplicationSummaryDto {
  @IsInt() total: number;
  @IsInt() ok: number;
  @IsInt() failing: number;
  @IsInt() syncing: number;
  @IsInt() disabled: number;
  @IsInt() unknown: number;
}

export class ReplicationStatusDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => ReplicationJobDto) jobs: ReplicationJobDto[];
  @ValidateNested() @Type(() => ReplicationSummaryDto) summary: ReplicationSummaryDto;
}

// ---------------------------------------------------------------- ceph

export class CephCheckDto {
  @IsString() @JSONSchema({ description: 'Ceph health check code, e.g. OSD_DOWN' }) code: string;
  @IsString() severity: string;
  @IsString() message: string;
  @IsOptional() @IsBoolean() muted?: boolean;
}

export class CephMonitorsDto {
  @IsInt() total: number;
  @IsArray() @IsString({ each: true }) quorum: string[];
}

export class CephOsdsDto {
  @IsInt() total: number;
  @IsInt() up: number;
  @IsInt() in: number;
}

export class CephPgStateDto {
  @IsString() state: string;
  @IsInt() count: number;
}

export class CephPgsDto {
  @IsInt() total: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => CephPgStateDto) by_state: CephPgStateDto[];
}

export class CephUsageDto {
  @IsNumber() total_bytes: number;
  @IsNumber() used_bytes: number;
  @IsNumber() avail_bytes: number;
  @IsNumber() used_percent: number;
}

export class CephStatusDto {
  @IsString() target: string;
  @IsBoolean()
  @JSONSchema({
    description: 'False when Ceph is not installed or not configured on this cluster (not an error)',
  })
  configured: boolean;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Why there is no status (when not configured)' })
  message?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'HEALTH_OK, HEALTH_WARN or HEALTH_ERR' })
  health?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => CephCheckDto) checks: CephCheckDto[];
  @IsOptional() @ValidateNested() @Type(() => CephMonitorsDto) monitors?: CephMonitorsDto;
  @IsOptional() @ValidateNested() @Type(() => CephOsdsDto) osds?: CephOsdsDto;
  @IsOptional() @ValidateNested() @Type(() => CephPgsDto) pgs?: CephPgsDto;
  @IsOptional() @ValidateNested() @Type(() => CephUsageDto) usage?: CephUsageDto;
}

// ---------------------------------------------------------------- sdn

export const SDN_ZONE_TYPES = ['evpn', 'faucet', 'qinq', 'simple', 'vlan', 'vxlan'] as const;
export const SDN_STATES = ['applied', 'new', 'changed', 'deleted'] as const;
const SDN_STATE_DESCRIPTION =
  'applied (running), or new/changed/deleted: configured but not applied yet (Datacenter → SDN → Apply)';

export class SdnZoneQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(SDN_ZONE_TYPES)
  @JSONSchema({ description: 'Only zones of this type' })
  type?: (typeof SDN_ZONE_TYPES)[number];
}

export class SdnZoneDto {
  @IsString() zone: string;
  @IsString() type: string;
  @IsIn(SDN_STATES) @JSONSchema({ description: SDN_STATE_DESCRIPTION }) state: (typeof SDN_STATES)[number];
  @IsOptional() @IsString() bridge?: string;
  @IsOptional() @IsInt() mtu?: number;
  @IsArray() @IsString({ each: true }) @JSONSchema({ description: 'VXLAN peers' }) peers: string[];
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'Nodes the zone is deployed on (empty: every node)' })
  nodes: string[];
  @IsOptional() @IsString() ipam?: string;
  @IsOptional() @IsString() dns?: string;
  @IsOptional() @IsString() controller?: string;
}

export class SdnZoneListDto {
  @IsString() target: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => SdnZoneDto) zones: SdnZoneDto[];
}

export class SdnVnetQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Only the VNets of this zone (see list_sdn_zones)' })
  zone?: string;
}

export class SdnVnetDto {
  @IsString() vnet: string;
  @IsOptional() @IsString() zone?: string;
  @IsOptional() @IsInt() @JSONSchema({ description: 'VLAN tag, or VXLAN/EVPN VNI' }) tag?: number;
  @IsOptional() @IsString() alias?: string;
  @IsBoolean() vlan_aware: boolean;
  @IsBoolean() isolate_ports: boolean;
  @IsIn(SDN_STATES) @JSONSchema({ description: SDN_STATE_DESCRIPTION }) state: (typeof SDN_STATES)[number];
}

export class SdnVnetListDto {
  @IsString() target: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => SdnVnetDto) vnets: SdnVnetDto[];
}

// ---------------------------------------------------------------- updates

export class NodeUpdatesQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only this node (default: every online node)' })
  node?: string;
}

export class PackageUpdateDto {
  @IsString() package: string;
  @IsOptional() @IsString() current_version?: string;
  @IsString() new_version: string;
  @IsString() @JSONSchema({ description: "Where it comes from, e.g. 'Proxmox' or 'Debian'" }) origin: string;
  @IsString() priority: string;
  @IsString() section: string;
  @IsString() title: string;
}

export class NodeUpdatesDto {
  @IsString() node: string;
  @IsInt() count: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => PackageUpdateDto) packages: PackageUpdateDto[];
}

export class NodeUpdatesListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => NodeUpdatesDto) nodes: NodeUpdatesDto[];
  @IsInt() @JSONSchema({ description: 'Pending updates over all listed nodes' }) total: number;
}
