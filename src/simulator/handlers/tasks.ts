import { PveError } from '../pve-error.js';
import { Reply, type RouteContext, type Router } from '../router.js';
import type { SimTask } from '../tasks.js';
import { parseUpid, splitTokenUser } from '../upid.js';

/** Task endpoints (manager PVE/API2/Tasks.pm): list, status, log, stop. */
export function registerTaskRoutes(router: Router): void {
  router
    .get('/nodes/{node}/tasks', taskList)
    .get('/nodes/{node}/tasks/{upid}', (ctx) => (taskOf(ctx), [{ name: 'log' }, { name: 'status' }]))
    .get('/nodes/{node}/tasks/{upid}/status', taskStatus)
    .get('/nodes/{node}/tasks/{upid}/log', taskLog)
    .delete('/nodes/{node}/tasks/{upid}', (ctx) => {
      ctx.tasks.interrupt(taskOf(ctx).upid);
      return null;
    });
}

/** The task named by `{upid}` on this node, or PVE's 400s for a malformed or unknown UPID. */
function taskOf(ctx: RouteContext): SimTask {
  const upid = ctx.str('upid') ?? '';
  if (!parseUpid(upid)) throw PveError.params({ upid: 'unable to parse worker upid' });
  const task = ctx.tasks.get(upid);
  // the task log lives on the node that ran it; another node has no such file
  if (!task || task.node !== ctx.node().name) throw PveError.params({ upid: 'no such task' });
  return task;
}

/** The UPID fields, with a token user split into `user` + `tokenid` as PVE reports it. */
function taskFields(task: SimTask): Record<string, unknown> {
  const { user, tokenid } = splitTokenUser(task.user);
  return {
    upid: task.upid,
    node: task.node,
    pid: task.pid,
    pstart: task.pstart,
    starttime: task.starttime,
    type: task.type,
    id: task.id,
    user,
    ...(tokenid ? { tokenid } : {}),
  };
}

function taskStatus(ctx: RouteContext): unknown {
  const task = taskOf(ctx);
  // no endtime here: only the list has it
  return {
    ...taskFields(task),
    status: task.status,
    ...(task.exitstatus ? { exitstatus: task.exitstatus } : {}),
  };
}

/** `n` counts from 1; `start` is a 0-based line offset; `limit=0` reads to the end; `total` = lines in the log. */
function taskLog(ctx: RouteContext): Reply {
  const task = taskOf(ctx);
  if (ctx.bool('download'))
    throw PveError.notImplemented('task log download is not implemented by the PVE simulator');
  const start = ctx.int('start') ?? 0;
  const limit = ctx.int('limit') ?? 50;
  if (task.log.length === 0) return new Reply([{ n: 1, t: 'no content' }], { total: 1 });
  const end = limit === 0 ? task.log.length : start + limit;
  const lines = task.log.slice(start, end).map((t, i) => ({ n: start + i + 1, t }));
  return new Reply(lines, { total: task.log.length });
}

/** ok | warning | error | unknown, as upid_normalize_status_type classifies an exit status. */
function statusType(task: SimTask): string {
  if (!task.exitstatus) return 'unknown';
  if (task.exitstatus === 'OK') return 'ok';
  if (task.exitstatus.startsWith('WARNINGS:')) return 'warning';
  return 'error';
}

function taskList(ctx: RouteContext): Reply {
  const source = ctx.str('source') ?? 'archive';
  const vmid = ctx.str('vmid');
  const type = ctx.str('typefilter');
  const userFilter = ctx.str('userfilter')?.toLowerCase();
  const statuses = ctx
    .str('statusfilter')
    ?.split(/[,;\s]+/)
    .filter(Boolean);
  const since = ctx.int('since');
  const until = ctx.int('until');
  const errorsOnly = ctx.bool('errors');
  const matching = ctx.tasks.list(ctx.node().name).filter((t) => {
    if (source === 'archive' && t.status === 'running') return false;
    if (source === 'active' && t.status !== 'running') return false;
    if (vmid !== undefined && t.id !== vmid) return false;
    if (type && t.type !== type) return false;
    if (userFilter && !t.user.toLowerCase().includes(userFilter)) return false;
    if (statuses && !statuses.includes(statusType(t))) return false;
    if (errorsOnly && statusType(t) !== 'error') return false;
    if (since !== undefined && t.starttime < since) return false;
    if (until !== undefined && t.starttime > until) return false;
    return true;
  });
  const start = ctx.int('start') ?? 0;
  const limit = ctx.int('limit') ?? 50;
  const page = matching.slice(start, limit === 0 ? undefined : start + limit).map((t) => ({
    ...taskFields(t),
    ...(t.endtime !== undefined ? { endtime: t.endtime } : {}),
    ...(t.exitstatus !== undefined ? { status: t.exitstatus } : {}),
  }));
  return new Reply(page, { total: matching.length });
}
