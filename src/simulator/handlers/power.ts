import type { GuestType, SimGuest } from '../cluster-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { guestOf } from './guests.js';

/**
 * Power actions. Each returns a UPID at once; the effect applies when the task finishes. Which checks fail
 * synchronously (500) and which fail inside the task follows qemu-server API2/Qemu.pm and pve-container
 * API2/LXC/Status.pm: e.g. starting a running VM fails in the task, starting a running container fails at once.
 */
type Action = 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset' | 'suspend' | 'resume';

interface ActionDef {
  /** Synchronous refusal (thrown as 500 before any task starts). */
  precheck?: (guest: SimGuest, ctx: RouteContext) => string | undefined;
  /** The task's work; returns an error text to fail the task. */
  run: (guest: SimGuest, ctx: RouteContext) => string | undefined;
  taskType: (ctx: RouteContext) => string;
}

const running = (g: SimGuest) => g.status === 'running';
const label = (g: SimGuest) => (g.type === 'qemu' ? `VM ${g.vmid}` : `CT ${g.vmid}`);
const suspendedToDisk = (g: SimGuest) => g.lock === 'suspended';

/** A config lock blocks power actions unless `skiplock` (AbstractConfig check_lock). */
function lockError(guest: SimGuest, ctx: RouteContext): string | undefined {
  if (!guest.lock || ctx.bool('skiplock')) return undefined;
  return `${guest.type === 'qemu' ? 'VM' : 'CT'} is locked (${guest.lock})`;
}

function restart(guest: SimGuest, ctx: RouteContext): undefined {
  ctx.cluster.setRunning(guest, true);
  return undefined;
}

const QEMU: Partial<Record<Action, ActionDef>> = {
  start: {
    taskType: () => 'qmstart',
    run: (g, ctx) => {
      if (suspendedToDisk(g)) g.lock = undefined; // start resumes a VM hibernated to disk
      const locked = lockError(g, ctx);
      if (locked) return locked;
      if (running(g)) return `${label(g)} already running`;
      return restart(g, ctx);
    },
  },
  stop: { taskType: () => 'qmstop', run: (g, ctx) => lockError(g, ctx) ?? stopIfRunning(g, ctx) },
  shutdown: {
    taskType: () => 'qmshutdown',
    precheck: (g, ctx) => (g.paused && !ctx.bool('forceStop') ? 'VM is paused - cannot shutdown' : undefined),
    run: (g, ctx) => lockError(g, ctx) ?? stopIfRunning(g, ctx),
  },
  reboot: {
    taskType: () => 'qmreboot',
    precheck: (g) =>
      g.paused ? 'VM is paused - cannot shutdown' : running(g) ? undefined : `${label(g)} not running`,
    run: (g, ctx) => lockError(g, ctx) ?? restart(g, ctx),
  },
  reset: {
    taskType: () => 'qmreset',
    precheck: (g) => (running(g) ? undefined : `${label(g)} not running`),
    run: (g, ctx) => lockError(g, ctx) ?? restart(g, ctx),
  },
  suspend: {
    taskType: (ctx) => (ctx.bool('todisk') ? 'qmsuspend' : 'qmpause'),
    precheck: (g) => (running(g) ? undefined : `${label(g)} not running`),
    run: (g, ctx) => {
      const locked = lockError(g, ctx);
      if (locked) return locked;
      if (ctx.bool('todisk')) {
        ctx.cluster.setRunning(g, false);
        g.lock = 'suspended';
      } else {
        g.paused = true;
      }
      return undefined;
    },
  },
  resume: {
    taskType: () => 'qmresume',
    precheck: (g) => (running(g) || suspendedToDisk(g) ? undefined : `${label(g)} not running`),
    run: (g, ctx) => {
      if (suspendedToDisk(g)) {
        g.lock = undefined;
        return restart(g, ctx);
      }
      const locked = lockError(g, ctx);
      if (locked) return locked;
      g.paused = false;
      return undefined;
    },
  },
};

const mustRun = (g: SimGuest) => (running(g) ? undefined : `${label(g)} not running`);

const LXC: Partial<Record<Action, ActionDef>> = {
  start: {
    taskType: () => 'vzstart',
    precheck: (g) => (running(g) ? `${label(g)} already running` : undefined),
    run: (g, ctx) => lockError(g, ctx) ?? restart(g, ctx),
  },
  stop: {
    taskType: () => 'vzstop',
    precheck: mustRun,
    run: (g, ctx) => lockError(g, ctx) ?? stopIfRunning(g, ctx),
  },
  shutdown: {
    taskType: () => 'vzshutdown',
    precheck: mustRun,
    run: (g, ctx) => lockError(g, ctx) ?? stopIfRunning(g, ctx),
  },
  reboot: {
    taskType: () => 'vzreboot',
    precheck: mustRun,
    run: (g, ctx) => lockError(g, ctx) ?? restart(g, ctx),
  },
  suspend: {
    taskType: () => 'vzsuspend',
    precheck: mustRun,
    run: (g, ctx) => lockError(g, ctx) ?? void (g.paused = true),
  },
  resume: { taskType: () => 'vzresume', precheck: mustRun, run: (g) => void (g.paused = false) },
};

function stopIfRunning(guest: SimGuest, ctx: RouteContext): undefined {
  // stopping a stopped VM is a no-op that ends OK (vm_stop returns when there is no pid)
  if (running(guest)) ctx.cluster.setRunning(guest, false);
  return undefined;
}

export function registerPowerRoutes(router: Router): void {
  for (const [type, actions] of [
    ['qemu', QEMU],
    ['lxc', LXC],
  ] as const) {
    for (const [action, def] of Object.entries(actions)) {
      router.post(`/nodes/{node}/${type}/{vmid}/status/${action}`, (ctx) => powerAction(ctx, type, def));
    }
  }
}

function powerAction(ctx: RouteContext, type: GuestType, def: ActionDef): string {
  const guest = guestOf(ctx, type);
  const refused = def.precheck?.(guest, ctx);
  if (refused) throw PveError.internal(refused);
  // writes to /etc/pve need quorum (PVE::Cluster::check_cfs_quorum)
  if (!ctx.cluster.isQuorate()) throw PveError.internal('cluster not ready - no quorum?');
  const task = ctx.tasks.start({
    node: guest.node,
    type: def.taskType(ctx),
    id: String(guest.vmid),
    user: ctx.authUser,
    run: () => def.run(guest, ctx),
  });
  return task.upid;
}
