import type { SimReplicationJob, SimSdnVnet, SimSdnZone } from '../cluster-services-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';

/**
 * Read-only cluster services: storage replication (API2/Replication.pm and ReplicationConfig.pm), Ceph status
 * (API2/Ceph.pm, API2/Cluster/Ceph.pm), SDN zones and VNets (API2/Network/SDN/*), and the apt update cache
 * (API2/APT.pm). State: `ctx.cluster.services`.
 */
export function registerClusterServiceRoutes(router: Router): void {
  router
    .get('/cluster/replication', listReplicationJobs)
    .get('/nodes/{node}/replication', nodeReplicationStatus)
    .get('/cluster/ceph/status', cephStatus)
    .get('/nodes/{node}/ceph/status', (ctx) => (ctx.node(), cephStatus(ctx)))
    .get('/cluster/sdn/zones', listZones)
    .get('/cluster/sdn/vnets', listVnets)
    .get('/nodes/{node}/apt/update', (ctx) =>
      (ctx.cluster.services.updates.get(ctx.node().name) ?? []).map((u) => ({ ...u })),
    );
}

/** The config section of a job; `source` is the node its guest is on (replication follows a migrated guest). */
function jobRow(ctx: RouteContext, job: SimReplicationJob) {
  const guest = ctx.cluster.guest(job.guest);
  return {
    id: job.id,
    type: 'local',
    guest: job.guest,
    jobnum: job.jobnum,
    target: job.target,
    schedule: job.schedule,
    ...(guest ? { source: guest.node } : {}),
    ...(job.comment !== undefined ? { comment: job.comment } : {}),
    ...(job.disable ? { disable: 1 } : {}),
  };
}

function listReplicationJobs(ctx: RouteContext): unknown {
  return ctx.cluster.services.replicationJobs.map((job) => jobRow(ctx, job));
}

const SCHEDULE_SECONDS: Record<string, number> = { '*/15': 900, '*/30': 1800 };

/**
 * GET /nodes/{node}/replication: the jobs of the guests on this node with their state file merged in, as
 * PVE::ReplicationState::job_status does (last_sync, last_try, next_sync, duration, fail_count, error). A failing
 * job retries after 5 minutes times its failure count.
 */
function nodeReplicationStatus(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const only = ctx.int('guest');
  return ctx.cluster.services.replicationJobs
    .filter(
      (job) => ctx.cluster.guest(job.guest)?.node === node && (only === undefined || job.guest === only),
    )
    .map((job) => {
      const lastTry = job.failCount > 0 ? job.lastSync + 3600 : job.lastSync;
      const nextSync = job.disable
        ? undefined
        : job.failCount > 0
          ? lastTry + 300 * job.failCount
          : job.lastSync + (SCHEDULE_SECONDS[job.schedule] ?? 900);
      return {
        ...jobRow(ctx, job),
        vmtype: ctx.cluster.guest(job.guest)!.type,
        last_sync: job.lastSync,
        last_try: lastTry,
        ...(nextSync !== undefined ? { next_sync: nextSync } : {}),
        duration: job.duration,
        fail_count: job.failCount,
        ...(job.error !== undefined ? { error: job.error } : {}),
      };
    });
}

/**
 * Without Ceph PVE's check_ceph_inited dies before asking anything: "binary not installed". With it, `ceph status`
 * JSON (a healthy 3-OSD cluster, or one OSD down and degraded PGs for HEALTH_WARN).
 */
function cephStatus(ctx: RouteContext): unknown {
  const mode = ctx.cluster.services.ceph;
  if (mode === 'absent') throw PveError.internal('binary not installed: /usr/bin/ceph-mon');
  const warn = mode === 'HEALTH_WARN';
  const monitors = ctx.cluster.nodes().map((n) => n.name);
  const total = 3 * 1024 ** 4;
  const used = Math.round(total * 0.37);
  return {
    fsid: 'c4b2c3a1-5a0e-4d67-9b1d-7f6f2a1e0c11',
    health: {
      status: mode,
      checks: warn
        ? {
            OSD_DOWN: {
              severity: 'HEALTH_WARN',
              summary: { message: '1 osds down', count: 1 },
              muted: false,
            },
            PG_DEGRADED: {
              severity: 'HEALTH_WARN',
              summary: {
                message: 'Degraded data redundancy: 412/3096 objects degraded (13.308%), 21 pgs degraded',
                count: 21,
              },
              muted: false,
            },
          }
        : {},
      mutes: [],
    },
    quorum: monitors.map((_, i) => i),
    quorum_names: monitors,
    monmap: { num_mons: monitors.length },
    osdmap: { epoch: 142, num_osds: 3, num_up_osds: warn ? 2 : 3, num_in_osds: 3, num_remapped_pgs: 0 },
    pgmap: {
      pgs_by_state: warn
        ? [
            { state_name: 'active+clean', count: 108 },
            { state_name: 'active+undersized+degraded', count: 21 },
          ]
        : [{ state_name: 'active+clean', count: 129 }],
      num_pgs: 129,
      num_pools: 3,
      num_objects: 1032,
      data_bytes: Math.round(used / 3),
      bytes_used: used,
      bytes_avail: total - used,
      bytes_total: total,
    },
  };
}

/** With `pending`, a not yet applied object carries its `state` (PVE's pending view); without, the config. */
function withState<T extends SimSdnZone | SimSdnVnet>(ctx: RouteContext, row: T): Record<string, unknown> {
  const { state, ...config } = row;
  return ctx.bool('pending') && state !== undefined ? { ...config, state } : { ...config };
}

function listZones(ctx: RouteContext): unknown {
  const type = ctx.str('type');
  return ctx.cluster.services.sdnZones
    .filter((z) => type === undefined || z.type === type)
    .map((z) => ({ ...withState(ctx, z), digest: sdnDigest(z.zone) }));
}

function listVnets(ctx: RouteContext): unknown {
  return ctx.cluster.services.sdnVnets.map((v) => ({
    ...withState(ctx, v),
    type: 'vnet',
    digest: sdnDigest(v.vnet),
  }));
}

const sdnDigest = (id: string): string => Buffer.from(id.padEnd(20, '0')).toString('hex').slice(0, 40);
