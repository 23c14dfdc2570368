import type { ClusterState } from '../cluster-state.js';
import type { SimHaResource } from '../ha-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { applyToGuest, resolveSid } from './ha.js';

/**
 * HA migration and relocation (pve-ha-manager API2/HA/Resources.pm `migrate`, `relocate`; PVE 9 answers with the
 * resources that block the move or move along). The API only queues a CRM command; the CRM then puts the service
 * in state `migrate`/`relocate` and the source node's LRM runs the migration as a task of its own (root@pam):
 * `migrate` moves a running VM online, `relocate` stops the guest, moves it and starts it on the target (a
 * container always moves that way). When the task ends the service is started (or kept stopped) on the target;
 * when it fails (the target went offline meanwhile) it stays where it was.
 */
export function registerHaMotionRoutes(router: Router): void {
  router
    .post('/cluster/ha/resources/{sid}/migrate', (ctx) => move(ctx, 'migrate'))
    .post('/cluster/ha/resources/{sid}/relocate', (ctx) => move(ctx, 'relocate'));
}

/** The node a managed resource's guest is on. */
const nodeOf = (cluster: ClusterState, r: SimHaResource): string | undefined => cluster.guest(r.vmid)?.node;

/** Resources of enabled resource-affinity rules naming `sid`: kept apart (negative) or together (positive). */
function affinity(cluster: ClusterState, sid: string, kind: 'positive' | 'negative'): string[] {
  const out = new Set<string>();
  for (const rule of cluster.ha.rules.values()) {
    if (rule.type !== 'resource-affinity' || rule.disable || rule.affinity !== kind) continue;
    if (!rule.resources.includes(sid)) continue;
    for (const other of rule.resources) if (other !== sid && cluster.ha.resources.has(other)) out.add(other);
  }
  return [...out].sort();
}

function move(ctx: RouteContext, kind: 'migrate' | 'relocate'): Record<string, unknown> {
  const { cluster } = ctx;
  const { sid } = resolveSid(ctx);
  const target = ctx.str('node') ?? '';
  if (!cluster.node(target)) throw PveError.internal(`no such cluster node '${target}'`);
  const resource = cluster.ha.resources.get(sid);
  if (!resource) throw PveError.internal(`service '${sid}' not managed by ha`);
  const guest = cluster.guest(resource.vmid);
  if (guest?.hastate === 'error') {
    throw PveError.internal(`service '${sid}' in error state, must be disabled and fixed first`);
  }
  const result: Record<string, unknown> = { sid, 'requested-node': target };
  // negative affinity: a resource that must stay apart already runs on the target
  const blocking = affinity(cluster, sid, 'negative')
    .filter((other) => nodeOf(cluster, cluster.ha.resources.get(other)!) === target)
    .map((other) => ({ sid: other, cause: 'resource-affinity' }));
  if (blocking.length) return { ...result, 'blocking-resources': blocking };
  const comigrated = affinity(cluster, sid, 'positive');
  if (comigrated.length) result['comigrated-resources'] = comigrated;
  // the CRM ignores commands for ignored or disabled services, or one already moving or on the target
  for (const id of [sid, ...comigrated]) {
    const r = cluster.ha.resources.get(id)!;
    if (r.state === 'ignored' || r.state === 'disabled' || cluster.ha.motions.has(id)) continue;
    if (nodeOf(cluster, r) === target) continue;
    startMotion(ctx, r, kind, target);
  }
  return result;
}

/** The LRM's migration task on the source node; the service is `migrate`/`relocate` until it ends. */
function startMotion(
  ctx: RouteContext,
  resource: SimHaResource,
  kind: 'migrate' | 'relocate',
  target: string,
): void {
  const { cluster } = ctx;
  const guest = cluster.guest(resource.vmid);
  if (!guest) return;
  const source = guest.node;
  const running = guest.status === 'running';
  const online = kind === 'migrate' && guest.type === 'qemu' && running;
  const task = ctx.tasks.start({
    node: source,
    type: guest.type === 'qemu' ? 'qmigrate' : 'vzmigrate',
    id: String(guest.vmid),
    user: 'root@pam',
    lock: { guest, name: 'migrate' },
    log: [
      `requesting HA ${kind} for ${resource.sid} to node '${target}'`,
      online
        ? `starting migration of VM ${guest.vmid} to node '${target}'`
        : `${running ? 'stopping guest, then ' : ''}migrating ${resource.sid} offline to node '${target}'`,
    ],
    run: (t) => {
      cluster.ha.motions.delete(resource.sid);
      try {
        if (!cluster.node(target)?.online) {
          throw PveError.internal(`migration aborted: node '${target}' is not online`);
        }
        if (running && !online) cluster.setRunning(guest, false);
        cluster.moveGuest(guest, target);
        t.log.push(`migration finished successfully`);
      } finally {
        // the CRM takes over again: started (or stopped) where the guest now is
        if (cluster.ha.resources.get(resource.sid) === resource) applyToGuest(ctx, resource);
      }
      return undefined;
    },
    abort: () => {
      cluster.ha.motions.delete(resource.sid);
      if (cluster.ha.resources.get(resource.sid) === resource) applyToGuest(ctx, resource);
    },
  });
  cluster.ha.motions.set(resource.sid, { kind, target, upid: task.upid });
  guest.hastate = kind;
}
