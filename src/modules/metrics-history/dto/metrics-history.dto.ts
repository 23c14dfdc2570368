import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { NodeParamDto, TargetQueryDto } from '../../../common/dto/target.dto.js';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import {
  IsBooleanFlag,
  IsIntParam,
  IsNodeName,
  IsStorageId,
  IsVmid,
} from '../../../common/validation/proxmox.validators.js';

/** PVE's RRD timeframes (rrddata `timeframe`) and the seconds per point of each. */
export const TIMEFRAMES = ['hour', 'day', 'week', 'month', 'year'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];
export const CFS = ['AVERAGE', 'MAX'] as const;
export type Cf = (typeof CFS)[number];

export const TOP_BY = ['cpu', 'memory', 'disk_io', 'net_io'] as const;
export type TopBy = (typeof TOP_BY)[number];
export const TOP_LIMIT_DEFAULT = 10;
export const TOP_LIMIT_MAX = 50;

const TIMEFRAME_DESCRIPTION =
  'How far back: hour (70 points of 1 min), day (30 min), week (3 h), month (12 h) or year (1 week). Default hour.';

/** timeframe, cf and include_series: the query of the three history tools. */
export class MetricsQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(TIMEFRAMES)
  @JSONSchema({ description: TIMEFRAME_DESCRIPTION })
  timeframe?: Timeframe;

  @IsOptional()
  @IsIn(CFS)
  @JSONSchema({
    description:
      'How PVE consolidates each point: AVERAGE (default) or MAX (the peak within each point, for spotting bursts)',
  })
  cf?: Cf;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'Return the raw series (timestamps and one value list per metric) besides the summaries (default true); false keeps the answer short',
  })
  include_series?: boolean;
}

export class GuestVmidParamDto {
  @IsVmid()
  @JSONSchema({
    description: 'VM or container ID (100-999999999), e.g. 101; its node is looked up in the inventory.',
  })
  vmid: number;
}

export class StorageMetricsParamDto extends NodeParamDto {
  @IsStorageId()
  @JSONSchema({ description: 'Storage ID on that node, e.g. local-lvm (see get_storage).' })
  storage: string;
}

export class TopGuestsQueryDto extends TargetQueryDto {
  @IsIn(TOP_BY)
  @JSONSchema({
    description:
      'Rank by cpu (cores used), memory (bytes used), disk_io (read + write bytes/s) or net_io (in + out bytes/s)',
  })
  by: TopBy;

  @IsOptional()
  @IsIn(TIMEFRAMES)
  @JSONSchema({ description: `Averaging window. ${TIMEFRAME_DESCRIPTION}` })
  timeframe?: Timeframe;

  @IsOptional()
  @IsIntParam()
  @Min(1, { message: `limit must be 1-${TOP_LIMIT_MAX} guests` })
  @Max(TOP_LIMIT_MAX, { message: `limit must be 1-${TOP_LIMIT_MAX} guests` })
  @JSONSchema({ description: `How many guests to return, 1-${TOP_LIMIT_MAX} (default ${TOP_LIMIT_DEFAULT})` })
  limit?: number;

  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only guests on this node' })
  node?: string;

  @IsOptional()
  @IsIn(['qemu', 'lxc'])
  @JSONSchema({ description: 'Only VMs (qemu) or only containers (lxc)' })
  type?: 'qemu' | 'lxc';
}

const NULLABLE_NUMBER = (): { type: ('number' | 'null')[] } => ({ type: ['number', 'null'] });

/** One metric: its summary over the window and, unless include_series is false, its values. */
export class MetricDto {
  @IsString()
  @JSONSchema({
    description:
      'cpu, iowait, loadavg, mem_used, mem_total, mem_percent, swap_used, disk_read, disk_write, net_in, net_out, used, total, used_percent, pressure_<cpu|io|memory>_<some|full>',
  })
  name: string;

  @IsString()
  @JSONSchema({
    description:
      "percent (0-100; cpu: of the guest's or node's CPUs), bytes, bytes/s, or load (run-queue length). Pressure is PVE's PSI share of time stalled, in percent.",
  })
  unit: string;

  @IsInt()
  @JSONSchema({ description: 'Points that have a value (PVE leaves points without data empty)' })
  points: number;

  @IsOptional() @IsNumber() @JSONSchema({ ...NULLABLE_NUMBER(), description: 'Mean of the points' }) avg:
    number | null;
  @IsOptional() @IsNumber() @JSONSchema({ ...NULLABLE_NUMBER(), description: 'Lowest point' }) min:
    number | null;
  @IsOptional() @IsNumber() @JSONSchema({ ...NULLABLE_NUMBER(), description: 'Highest point' }) max:
    number | null;
  @IsOptional()
  @IsNumber()
  @JSONSchema({ ...NULLABLE_NUMBER(), description: 'Newest point with a value' })
  last: number | null;

  @IsOptional()
  @IsNumber()
  @JSONSchema({ ...NULLABLE_NUMBER(), description: 'last − first point with a value' })
  change: number | null;

  @IsOptional()
  @IsNumber()
  @JSONSchema({ ...NULLABLE_NUMBER(), description: 'Least-squares slope, in the unit per hour' })
  slope_per_hour: number | null;

  @IsIn(['rising', 'falling', 'flat'])
  @JSONSchema({
    description:
      'rising or falling when the least-squares line moves by at least 5 % of the highest absolute point over the window; flat otherwise (or with fewer than 2 points)',
  })
  trend: 'rising' | 'falling' | 'flat';

  @IsOptional()
  @IsArray()
  @JSONSchema({
    type: 'array',
    items: NULLABLE_NUMBER(),
    description: 'One value per timestamp (null: no data at that point)',
  })
  values?: Array<number | null>;
}

export class MetricsHistoryDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsOptional() @IsInt() vmid?: number;
  @IsOptional()
  @IsIn(['qemu', 'lxc'])
  @JSONSchema({ description: 'qemu (VM) or lxc (container)' })
  type?: 'qemu' | 'lxc';
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() status?: string;
  @IsOptional() @IsString() storage?: string;
  @IsIn(TIMEFRAMES) timeframe: Timeframe;
  @IsIn(CFS) cf: Cf;

  @IsInt()
  @JSONSchema({ description: 'Seconds between points' })
  step_seconds: number;

  @IsOptional() @IsInt() @JSONSchema({ description: 'Epoch seconds of the first point' }) from?: number;
  @IsOptional() @IsInt() @JSONSchema({ description: 'Epoch seconds of the last point' }) to?: number;

  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  @JSONSchema({
    description:
      'Epoch seconds of each point, oldest first (with include_series); each metric has one value per timestamp',
  })
  timestamps?: number[];

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => MetricDto)
  @JSONSchema({ description: 'The metrics PVE recorded (pressure only where PVE 9 reports it)' })
  metrics: MetricDto[];
}

export class TopGuestDto {
  @IsInt() rank: number;
  @IsInt() vmid: number;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsOptional() @IsString() name?: string;
  @IsString() node: string;

  @IsNumber()
  @JSONSchema({
    description:
      'The ranking value averaged over the timeframe: cores used (cpu), bytes (memory) or bytes/s (disk_io, net_io)',
  })
  value: number;

  @IsOptional()
  @IsNumber()
  @JSONSchema({ ...NULLABLE_NUMBER(), description: 'The highest point of the window (same unit as value)' })
  peak: number | null;

  @IsOptional()
  @IsNumber()
  @JSONSchema({
    ...NULLABLE_NUMBER(),
    description: 'cpu: percent of its own CPUs; memory: percent of its memory',
  })
  percent: number | null;

  @IsIn(['rising', 'falling', 'flat']) trend: 'rising' | 'falling' | 'flat';
  @IsNumber() @JSONSchema({ description: 'The value in /cluster/resources now (same unit)' }) current: number;
}

export class TopGuestsDto extends PartialResultDto {
  @IsIn(TOP_BY) by: TopBy;
  @IsIn(TIMEFRAMES) timeframe: Timeframe;

  @IsString()
  @JSONSchema({ description: 'cores, bytes or bytes/s' })
  unit: string;

  @IsArray() @ValidateNested({ each: true }) @Type(() => TopGuestDto) guests: TopGuestDto[];

  @IsInt()
  @JSONSchema({ description: 'Running guests that matched the filters' })
  candidates: number;

  @IsInt()
  @JSONSchema({
    description: 'Guests whose RRD history was read (the top candidates by their current values)',
  })
  history_read: number;

  @IsInt()
  @JSONSchema({
    description: 'Proxmox API requests this call made (1 inventory read + one rrddata per guest read)',
  })
  upstream_requests: number;

  @IsString()
  @JSONSchema({ description: 'How the ranking was made' })
  method: string;
}
