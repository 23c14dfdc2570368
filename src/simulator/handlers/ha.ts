import type { SimGuest } from '../cluster-model.js';
import type { ClusterState } from '../cluster-state.js';
import { parseSid, type HaRequestState, type SimHaResource } from '../ha-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';

/**
 * High availability (pve-ha-manager API2/HA/Resources.pm and Status.pm). Resource changes are synchronous (no
 * task): they write resources.cfg, and the CRM applies them; here at once (ha-state.ts). Refusals are plain
 * `die`s, so 500s with PVE's messages.
 */
export function registerHaRoutes(router: Router): void {
  router
    .get('/cluster/ha/resources', listResources)
    .post('/cluster/ha/resources', createResource)
    .get('/cluster/ha/resources/{sid}', readResource)
    .put('/cluster/ha/resources/{sid}', updateResource)
    .delete('/cluster/ha/resources/{sid}', deleteResource)
    .get('/cluster/ha/rules', listRules)
    .get('/cluster/ha/status/current', currentStatus)
    .get('/cluster/ha/status/manager_status', managerStatus);
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The resource as GET returns it: its options, `sid`, `type` and the file's digest. */
function resourceRow(cluster: ClusterState, r: SimHaResource) {
  return {
    sid: r.sid,
    type: r.type,
    state: r.state,
    max_restart: r.max_restart,
    max_relocate: r.max_relocate,
    failback: r.failback ? 1 : 0,
    ...(r.comment !== undefined ? { comment: r.comment } : {}),
    digest: cluster.ha.digest(),
  };
}

/** parse_sid: `vm:100`, `ct:101`, or a bare vmid whose type the vmlist tells. */
export function resolveSid(ctx: RouteContext): { sid: string; type: 'vm' | 'ct'; guest?: SimGuest } {
  const text = ctx.str('sid') ?? '';
  const parsed = parseSid(text);
  if (!parsed) throw PveError.internal(`unable to parse service id '${text}'`);
  const guest = ctx.cluster.guest(parsed.vmid);
  const type = parsed.type ?? (guest ? (guest.type === 'lxc' ? 'ct' : 'vm') : undefined);
  if (!type) throw PveError.internal(`unable to find VM/CT '${parsed.vmid}'`);
  return { sid: `${type}:${parsed.vmid}`, type, guest };
}

function existing(ctx: RouteContext, sid: string): SimHaResource {
  const resource = ctx.cluster.ha.resources.get(sid);
  if (!resource) throw PveError.internal(`no such resource '${sid}'`);
  return resource;
}

export function applyToGuest(ctx: RouteContext, resource: SimHaResource, removed = false): void {
  const { cluster } = ctx;
  const guest = cluster.guest(resource.vmid);
  const online = guest ? (cluster.node(guest.node)?.online ?? false) : false;
  cluster.ha.apply(resource, guest, online, (g, running) => cluster.setRunning(g, running), removed);
}

function listResources(ctx: RouteContext): unknown {
  const type = ctx.str('type');
  return [...ctx.cluster.ha.resources.values()]
    .filter((r) => type === undefined || r.type === type)
    .sort((a, b) => a.sid.localeCompare(b.sid))
    .map((r) => resourceRow(ctx.cluster, r));
}

function readResource(ctx: RouteContext): unknown {
  return resourceRow(ctx.cluster, existing(ctx, resolveSid(ctx).sid));
}

/** POST: the guest must exist with the type the sid names, and not be managed yet. */
function createResource(ctx: RouteContext): null {
  const { sid, type, guest } = resolveSid(ctx);
  const paramType = ctx.str('type');
  if (paramType !== undefined && paramType !== type) throw PveError.internal('types does not match');
  if (!guest || (guest.type === 'lxc') !== (type === 'ct')) {
    throw PveError.internal(`resource '${sid}' does not exist in cluster`);
  }
  if (ctx.cluster.ha.resources.has(sid)) throw PveError.internal(`resource ID '${sid}' already defined`);
  const comment = ctx.str('comment');
  const resource: SimHaResource = {
    sid,
    type,
    vmid: guest.vmid,
    state: (ctx.str('state') ?? 'started') as HaRequestState,
    max_restart: ctx.int('max_restart') ?? 1,
    max_relocate: ctx.int('max_relocate') ?? 1,
    failback: ctx.has('failback') ? ctx.bool('failback') : true,
    ...(comment !== undefined ? { comment } : {}),
  };
  ctx.cluster.ha.resources.set(sid, resource);
  applyToGuest(ctx, resource);
  return null;
}

/** PUT: options set or deleted (back to their default), guarded by resources.cfg's digest. */
function updateResource(ctx: RouteContext): null {
  const resource = existing(ctx, resolveSid(ctx).sid);
  const digest = ctx.str('digest');
  if (digest !== undefined && digest !== ctx.cluster.ha.digest()) {
    throw PveError.internal('detected modified configuration - file changed by other user? Try again.');
  }
  for (const key of (ctx.str('delete') ?? '').split(/[\s,;]+/).filter(Boolean)) {
    if (key === 'comment') delete resource.comment;
    else if (key === 'max_restart') resource.max_restart = 1;
    else if (key === 'max_relocate') resource.max_relocate = 1;
    else if (key === 'failback') resource.failback = true;
    else if (key === 'state') resource.state = 'started';
  }
  const state = ctx.str('state');
  if (state !== undefined) resource.state = state as HaRequestState;
  const maxRestart = ctx.int('max_restart');
  if (maxRestart !== undefined) resource.max_restart = maxRestart;
  const maxRelocate = ctx.int('max_relocate');
  if (maxRelocate !== undefined) resource.max_relocate = maxRelocate;
  if (ctx.has('failback')) resource.failback = ctx.bool('failback');
  const comment = ctx.str('comment');
  if (comment !== undefined) resource.comment = comment;
  applyToGuest(ctx, resource);
  return null;
}

function deleteResource(ctx: RouteContext): null {
  const { sid } = resolveSid(ctx);
  const resource = ctx.cluster.ha.resources.get(sid);
  if (!resource) throw PveError.internal(`cannot delete service '${sid}', not HA managed!`);
  ctx.cluster.ha.resources.delete(sid);
  // `purge` defaults to 1
  if (!ctx.has('purge') || ctx.bool('purge')) ctx.cluster.ha.purgeFromRules(sid);
  applyToGuest(ctx, resource, true);
  return null;
}

/** GET /cluster/ha/rules: every rule (`type` narrows, `resource` keeps those naming it), in rules.cfg order. */
function listRules(ctx: RouteContext): unknown {
  const { ha } = ctx.cluster;
  const type = ctx.str('type');
  const resource = ctx.str('resource');
  const digest = ha.rulesDigest();
  return [...ha.rules.values()]
    .filter((r) => type === undefined || r.type === type)
    .filter((r) => resource === undefined || r.resources.includes(resource))
    .map((r, order) => ({
      rule: r.rule,
      type: r.type,
      resources: r.resources.join(','),
      ...(r.nodes ? { nodes: r.nodes.join(',') } : {}),
      ...(r.strict !== undefined ? { strict: r.strict ? 1 : 0 } : {}),
      ...(r.affinity ? { affinity: r.affinity } : {}),
      ...(r.disable ? { disable: 1 } : {}),
      ...(r.comment !== undefined ? { comment: r.comment } : {}),
      order: order + 1,
      digest,
    }));
}

/** The manager's view: the first online node is the CRM master; a node runs an LRM. */
function managerView(cluster: ClusterState) {
  const resources = [...cluster.ha.resources.values()].sort((a, b) => a.sid.localeCompare(b.sid));
  const nodes = cluster.nodes().sort((a, b) => a.name.localeCompare(b.name));
  const master = resources.length ? nodes.find((n) => n.online)?.name : undefined;
  const services = resources.map((r) => {
    const node = cluster.guest(r.vmid)?.node ?? master ?? cluster.localNode;
    return { resource: r, node, state: cluster.ha.serviceState(r, cluster.node(node)?.online ?? false) };
  });
  const nodeStatus = nodes.map((n) => ({
    name: n.name,
    online: n.online,
    active: services.some((s) => s.node === n.name && s.state !== 'ignored'),
  }));
  return { master, services, nodeStatus };
}

/** GET /cluster/ha/status/current: quorum, master, one LRM per node and one entry per service. */
function currentStatus(ctx: RouteContext): unknown {
  const { cluster } = ctx;
  const quorate = cluster.isQuorate();
  const now = nowSeconds();
  const rows: unknown[] = [
    {
      id: 'quorum',
      type: 'quorum',
      node: cluster.localNode,
      status: quorate ? 'OK' : `No quorum on node '${cluster.localNode}'!`,
      quorate: quorate ? 1 : 0,
    },
  ];
  const { master, services, nodeStatus } = managerView(cluster);
  if (master === undefined) return rows;
  rows.push({ id: 'master', type: 'master', node: master, status: 'active', timestamp: now });
  for (const n of nodeStatus) {
    rows.push({
      id: `lrm:${n.name}`,
      type: 'lrm',
      node: n.name,
      status: !n.online ? 'old timestamp - dead?' : n.active ? 'active' : 'idle',
      ...(n.online ? { timestamp: now } : {}),
    });
  }
  for (const s of services) {
    rows.push({
      id: `service:${s.resource.sid}`,
      type: 'service',
      sid: s.resource.sid,
      node: s.node,
      state: s.state,
      status: s.state,
      crm_state: s.state,
      request_state: s.resource.state,
      max_restart: s.resource.max_restart,
      max_relocate: s.resource.max_relocate,
      failback: s.resource.failback ? 1 : 0,
    });
  }
  return rows;
}

/** GET /cluster/ha/status/manager_status: the CRM's manager_status file and the quorum. */
function managerStatus(ctx: RouteContext): unknown {
  const { cluster } = ctx;
  const { master, services, nodeStatus } = managerView(cluster);
  const quorum = { node: cluster.localNode, quorate: cluster.isQuorate() ? '1' : '0' };
  if (master === undefined) return { manager_status: {}, quorum };
  return {
    manager_status: {
      master_node: master,
      timestamp: nowSeconds(),
      node_status: Object.fromEntries(
        nodeStatus.map((n) => [n.name, n.online ? 'online' : n.active ? 'fence' : 'unknown']),
      ),
      service_status: Object.fromEntries(
        services.map((s) => [s.resource.sid, { node: s.node, state: s.state }]),
      ),
    },
    quorum,
  };
}
