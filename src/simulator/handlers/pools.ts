import type { SimPool } from '../cluster-model.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { guestResource, storageResource } from '../views.js';

/**
 * Resource pools (manager API2/Pool.pm, PVE 9: the poolid goes in the query or body, not the path). Pools live in
 * user.cfg: a comment and storage members here, guest members as `SimGuest.pool`. Changes are synchronous (no
 * task); a refusal is a plain `die` inside lock_user_config, so a 500 whose message starts with the lock's text.
 */
export function registerPoolRoutes(router: Router): void {
  router
    .get('/pools', listPools)
    .post('/pools', createPool)
    .put('/pools', updatePool)
    .delete('/pools', deletePool);
}

/** Lists split on `,`, `;` and whitespace (PVE::Tools::split_list). */
const splitList = (text: string | undefined): string[] =>
  text === undefined ? [] : text.split(/[\s,;]+/).filter(Boolean);

function existingPool(ctx: RouteContext, poolid: string, failure: string): SimPool {
  const pool = ctx.cluster.pools.get(poolid);
  if (!pool) throw PveError.internal(`${failure}pool '${poolid}' does not exist`);
  return pool;
}

/**
 * GET /pools: every pool with its comment, or with `poolid` that one pool and its members (`type` narrows them):
 * guests as /cluster/resources rows, storages as one row each, read on the local node. The token is an
 * administrator's, so it sees every pool.
 */
function listPools(ctx: RouteContext): unknown {
  const { cluster } = ctx;
  const poolid = ctx.str('poolid');
  if (poolid === undefined) {
    return [...cluster.pools.keys()].sort().map((id) => poolRow(id, cluster.pools.get(id)!));
  }
  const pool = existingPool(ctx, poolid, '');
  const type = ctx.str('type');
  const guests = [...cluster.guests()]
    .filter((g) => g.pool === poolid && (type === undefined || g.type === type))
    .sort((a, b) => a.vmid - b.vmid)
    .map((g) => guestResource(g, cluster.node(g.node)?.online ?? false));
  const local = cluster.node(cluster.localNode)!;
  const storages =
    type === undefined || type === 'storage'
      ? [...pool.storages].sort().flatMap((id) => {
          const storage = cluster.storage(id);
          return storage ? [storageResource(cluster, local, storage)] : [];
        })
      : [];
  return [{ ...poolRow(poolid, pool), members: [...guests, ...storages] }];
}

const poolRow = (poolid: string, pool: SimPool) => ({
  poolid,
  ...(pool.comment !== undefined ? { comment: pool.comment } : {}),
});

/** POST /pools: a new pool; a nested one (`parent/child`) needs its parent. */
function createPool(ctx: RouteContext): null {
  const poolid = ctx.str('poolid') ?? '';
  const failure = 'create pool failed: ';
  if (ctx.cluster.pools.has(poolid)) throw PveError.internal(`${failure}pool '${poolid}' already exists`);
  const parent = /^(.*)\/[^/]+$/.exec(poolid)?.[1];
  if (parent !== undefined && !ctx.cluster.pools.has(parent))
    throw PveError.internal(`${failure}parent '${parent}' does not exist`);
  const comment = ctx.str('comment');
  ctx.cluster.pools.set(poolid, { storages: new Set(), ...(comment ? { comment } : {}) });
  return null;
}

/**
 * PUT /pools: the comment, then the `vms` and `storage` lists added (or removed with `delete`). Like PVE, every
 * check runs before user.cfg is written, so a refused update changes nothing.
 */
function updatePool(ctx: RouteContext): null {
  const { cluster } = ctx;
  const poolid = ctx.str('poolid') ?? '';
  const failure = 'update pools failed: ';
  const pool = existingPool(ctx, poolid, failure);
  const remove = ctx.bool('delete');
  const vmids = splitList(ctx.str('vms')).map(Number);
  const storages = splitList(ctx.str('storage'));
  const fail = (message: string) => PveError.internal(`${failure}${message}`);
  for (const vmid of vmids) {
    const guest = cluster.guest(vmid);
    if (remove) {
      if (guest?.pool !== poolid) throw fail(`VM ${vmid} is not a pool member`);
    } else if (!guest) {
      throw fail(`VM ${vmid} does not exist`);
    } else if (guest.pool === poolid) {
      throw fail(`VM ${vmid} is already a pool member`);
    } else if (guest.pool !== undefined && !ctx.bool('allow-move')) {
      throw fail(`VM ${vmid} belongs already to pool '${guest.pool}' and 'allow-move' is not set`);
    }
  }
  for (const id of storages) {
    if (remove) {
      if (!pool.storages.has(id)) throw fail(`Storage '${id}' is not a pool member`);
    } else if (!cluster.storage(id)) {
      throw fail(`Storage '${id}' does not exist`);
    } else if (pool.storages.has(id)) {
      throw fail(`Storage '${id}' is already a pool member`);
    }
  }
  const comment = ctx.str('comment');
  if (comment !== undefined) pool.comment = comment;
  for (const vmid of vmids) cluster.guest(vmid)!.pool = remove ? undefined : poolid;
  for (const id of storages) {
    if (remove) pool.storages.delete(id);
    else pool.storages.add(id);
  }
  return null;
}

/** DELETE /pools: only an empty pool (no sub-pool, guest or storage; members that no longer exist do not count). */
function deletePool(ctx: RouteContext): null {
  const { cluster } = ctx;
  const poolid = ctx.str('poolid') ?? '';
  const failure = 'delete pool failed: ';
  const pool = existingPool(ctx, poolid, failure);
  const notEmpty = (what: string) =>
    PveError.internal(`${failure}pool '${poolid}' is not empty (contains ${what})`);
  const child = [...cluster.pools.keys()].find((id) => id.startsWith(`${poolid}/`));
  if (child !== undefined) throw notEmpty(`pool '${child}'`);
  const guest = [...cluster.guests()].find((g) => g.pool === poolid);
  if (guest) throw notEmpty(`VM ${guest.vmid}`);
  const storage = [...pool.storages].find((id) => cluster.storage(id));
  if (storage !== undefined) throw notEmpty(`storage '${storage}'`);
  cluster.pools.delete(poolid);
  return null;
}
