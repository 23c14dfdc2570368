import { num, percent } from '../../common/format/human.js';
import type {
  CephCheckDto,
  CephStatusDto,
  NodeUpdatesDto,
  ReplicationJobDto,
  ReplicationState,
  ReplicationSummaryDto,
  SdnVnetDto,
  SdnZoneDto,
} from './dto/cluster-services.dto.js';
import { REPLICATION_STATES, SDN_STATES } from './dto/cluster-services.dto.js';

/** A row of GET /cluster/replication (replication.cfg). */
export interface PveReplicationJob {
  id: string;
  guest: number | string;
  target: string;
  schedule?: string;
  source?: string;
  comment?: string;
  disable?: number | boolean | string;
  rate?: number | string;
}

/** A row of GET /nodes/{node}/replication: the job with its state file (PVE::ReplicationState::job_status). */
export interface PveReplicationJobStatus extends PveReplicationJob {
  vmtype?: string;
  last_sync?: number | string;
  last_try?: number | string;
  next_sync?: number | string;
  duration?: number | string;
  fail_count?: number | string;
  error?: string;
  pid?: number | string;
}

const iso = (epoch: unknown): string | undefined =>
  num(epoch) > 0 ? new Date(num(epoch) * 1000).toISOString() : undefined;

/** The config row, with the node's status row when that node answered (`status` undefined: it did not). */
export function toReplicationJob(
  job: PveReplicationJob,
  status: PveReplicationJobStatus | undefined,
  answered: boolean,
): ReplicationJobDto {
  const disabled = num(job.disable) === 1;
  const failCount = num(status?.fail_count);
  const state: ReplicationState = disabled
    ? 'disabled'
    : !answered || status === undefined
      ? 'unknown'
      : num(status.pid) > 0
        ? 'syncing'
        : failCount > 0 || status.error
          ? 'failing'
          : 'ok';
  const lastSync = iso(status?.last_sync);
  const lastTry = iso(status?.last_try);
  const nextSync = iso(status?.next_sync);
  const type = status?.vmtype;
  return {
    id: job.id,
    vmid: num(job.guest),
    ...(type === 'qemu' || type === 'lxc' ? { guest_type: type } : {}),
    ...(job.source ? { source_node: job.source } : {}),
    target_node: job.target,
    schedule: job.schedule ?? '*/15', // PVE's default when the job does not set one
    state,
    ...(lastSync ? { last_sync: lastSync } : {}),
    ...(lastTry ? { last_try: lastTry } : {}),
    ...(nextSync ? { next_sync: nextSync } : {}),
    ...(status?.duration !== undefined ? { duration_seconds: num(status.duration) } : {}),
    fail_count: failCount,
    ...(status?.error ? { error: String(status.error).trim() } : {}),
    ...(job.rate !== undefined ? { rate_mbps: num(job.rate) } : {}),
    ...(job.comment ? { comment: job.comment } : {}),
  };
}

export function replicationSummary(jobs: readonly ReplicationJobDto[]): ReplicationSummaryDto {
  const count = (s: ReplicationState): number => jobs.filter((j) => j.state === s).length;
  return {
    total: jobs.length,
    ...(Object.fromEntries(REPLICATION_STATES.map((s) => [s, count(s)])) as Record<ReplicationState, number>),
  };
}

/** The parts of `ceph status` JSON we report. */
export interface PveCephStatus {
  health?: {
    status?: string;
    checks?: Record<string, { severity?: string; summary?: { message?: string }; muted?: boolean }>;
  };
  quorum_names?: string[];
  monmap?: { num_mons?: number; mons?: unknown[] };
  osdmap?: {
    num_osds?: number;
    num_up_osds?: number;
    num_in_osds?: number;
    osdmap?: { num_osds?: number; num_up_osds?: number; num_in_osds?: number };
  };
  pgmap?: {
    num_pgs?: number;
    pgs_by_state?: Array<{ state_name: string; count: number }>;
    bytes_total?: number;
    bytes_used?: number;
    bytes_avail?: number;
  };
}

export function toCephStatus(target: string, s: PveCephStatus): CephStatusDto {
  const checks: CephCheckDto[] = Object.entries(s.health?.checks ?? {}).map(([code, c]) => ({
    code,
    severity: c.severity ?? 'HEALTH_WARN',
    message: c.summary?.message ?? code,
    ...(c.muted !== undefined ? { muted: c.muted } : {}),
  }));
  // older Ceph releases nest the counters one level deeper (osdmap.osdmap)
  const osd = s.osdmap?.osdmap ?? s.osdmap;
  const pg = s.pgmap;
  const quorum = s.quorum_names ?? [];
  return {
    target,
    configured: true,
    health: s.health?.status ?? 'unknown',
    checks,
    monitors: { total: num(s.monmap?.num_mons ?? s.monmap?.mons?.length ?? quorum.length), quorum },
    ...(osd
      ? { osds: { total: num(osd.num_osds), up: num(osd.num_up_osds), in: num(osd.num_in_osds) } }
      : {}),
    ...(pg
      ? {
          pgs: {
            total: num(pg.num_pgs),
            by_state: (pg.pgs_by_state ?? []).map((p) => ({ state: p.state_name, count: num(p.count) })),
          },
          usage: {
            total_bytes: num(pg.bytes_total),
            used_bytes: num(pg.bytes_used),
            avail_bytes: num(pg.bytes_avail),
            used_percent: percent(num(pg.bytes_used), num(pg.bytes_total)),
          },
        }
      : {}),
  };
}

/** A row of GET /cluster/sdn/zones?pending=1 (only the fields we report). */
export interface PveSdnZone {
  zone: string;
  type: string;
  state?: string;
  bridge?: string;
  mtu?: number | string;
  peers?: string;
  nodes?: string;
  ipam?: string;
  dns?: string;
  controller?: string;
}

/** A row of GET /cluster/sdn/vnets?pending=1. */
export interface PveSdnVnet {
  vnet: string;
  zone?: string;
  tag?: number | string;
  alias?: string;
  vlanaware?: number | boolean | string;
  'isolate-ports'?: number | boolean | string;
  state?: string;
}

const list = (text: string | undefined): string[] => (text ? text.split(/[\s,;]+/).filter(Boolean) : []);
type SdnState = (typeof SDN_STATES)[number];
const sdnState = (state: string | undefined): SdnState =>
  (SDN_STATES as readonly string[]).includes(state ?? '') ? (state as SdnState) : 'applied';

export function toSdnZone(z: PveSdnZone): SdnZoneDto {
  return {
    zone: z.zone,
    type: z.type,
    state: sdnState(z.state),
    ...(z.bridge ? { bridge: z.bridge } : {}),
    ...(z.mtu !== undefined ? { mtu: num(z.mtu) } : {}),
    peers: list(z.peers),
    nodes: list(z.nodes),
    ...(z.ipam ? { ipam: z.ipam } : {}),
    ...(z.dns ? { dns: z.dns } : {}),
    ...(z.controller ? { controller: z.controller } : {}),
  };
}

export function toSdnVnet(v: PveSdnVnet): SdnVnetDto {
  return {
    vnet: v.vnet,
    ...(v.zone ? { zone: v.zone } : {}),
    ...(v.tag !== undefined ? { tag: num(v.tag) } : {}),
    ...(v.alias ? { alias: v.alias } : {}),
    vlan_aware: num(v.vlanaware) === 1,
    isolate_ports: num(v['isolate-ports']) === 1,
    state: sdnState(v.state),
  };
}

/** A row of GET /nodes/{node}/apt/update (apt's field names). */
export interface PvePackageUpdate {
  Package: string;
  Title?: string;
  Origin?: string;
  Priority?: string;
  Section?: string;
  OldVersion?: string;
  Version: string;
}

export function toNodeUpdates(node: string, rows: readonly PvePackageUpdate[]): NodeUpdatesDto {
  const packages = [...rows]
    .sort((a, b) => a.Package.localeCompare(b.Package))
    .map((u) => ({
      package: u.Package,
      ...(u.OldVersion ? { current_version: u.OldVersion } : {}),
      new_version: u.Version,
      origin: u.Origin ?? '',
      priority: u.Priority ?? '',
      section: u.Section ?? '',
      title: u.Title ?? '',
    }));
  return { node, count: packages.length, packages };
}
