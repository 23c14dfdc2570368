import type { GuestType, SimGuest } from '../cluster-model.js';
import type { ClusterState } from '../cluster-state.js';
import { PveError } from '../pve-error.js';
import { applyAllPending } from '../qemu-config.js';
import type { RouteContext, Router } from '../router.js';
import { warn, type SimTask } from '../tasks.js';
import { guestOf } from './guests.js';

/**
 * Power actions. Each returns a UPID at once; the effect applies when the task finishes. Which checks fail
 * synchronously (500), which fail as the worker starts (`prepare`: config locks) and which when it ends follows
 * qemu-server API2/Qemu.pm + QemuServer.pm and pve-container API2/LXC/Status.pm: e.g. starting a running VM fails
 * in the task, starting a running container fails at once, and a locked guest fails in the task.
 */
type Action = 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset' | 'suspend' | 'resume';

interface ActionDef {
  /** Parameters only root@pam may set (an API token gets 400 "Only root may use this option."). */
  rootOnly?: string[];
  /** Synchronous refusal (thrown as 500 before any task starts). */
  precheck?: (guest: SimGuest, ctx: RouteContext) => string | undefined;
  /** Checks as the worker starts (config lock, template). */
  prepare?: (guest: SimGuest, ctx: RouteContext) => string | undefined;
  /** The task's work; returns an error text to fail the task. */
  run: (guest: SimGuest, ctx: RouteContext, task: SimTask) => string | undefined;
  taskType: (ctx: RouteContext) => string;
  /** A config lock held while the task runs. */
  lock?: (ctx: RouteContext) => string | undefined;
  /** How long the task runs when that differs from the simulator's taskSeconds (e.g. a shutdown that times out). */
  duration?: (guest: SimGuest, ctx: RouteContext) => number | undefined;
}

const running = (g: SimGuest) => g.status === 'running';
const label = (g: SimGuest) => (g.type === 'qemu' ? `VM ${g.vmid}` : `CT ${g.vmid}`);
const suspendedToDisk = (g: SimGuest) => g.lock === 'suspended';

/** AbstractConfig::check_lock: "VM is locked (backup)" / "CT is locked (snapshot)". */
export function lockError(guest: SimGuest): string | undefined {
  return guest.lock ? `${guest.type === 'qemu' ? 'VM' : 'CT'} is locked (${guest.lock})` : undefined;
}

/** A locked guest refuses unless `skiplock` (which only root@pam may send, so never an API token). */
const unlessSkiplock = (g: SimGuest, ctx: RouteContext) => (ctx.bool('skiplock') ? undefined : lockError(g));

/** PVE::Network::tap_plug: a NIC on a bridge the node does not have stops the start. */
function missingBridge(cluster: ClusterState, guest: SimGuest): string | undefined {
  const bridges = new Set(
    cluster
      .networkInterfaces(guest.node)
      .filter((i) => i.type === 'bridge' || i.type === 'OVSBridge')
      .map((i) => i.iface),
  );
  for (const [key, value] of Object.entries(guest.config)) {
    if (!/^net\d+$/.test(key)) continue;
    const bridge = /(?:^|,)bridge=([^,]+)/.exec(String(value))?.[1];
    if (bridge && !bridges.has(bridge)) return `bridge '${bridge}' does not exist`;
  }
  return undefined;
}

/** vm_start's work: pending changes apply, the guest boots (qemu: the agent's process table is new). */
export function startVm(cluster: ClusterState, guest: SimGuest): string | undefined {
  if (running(guest)) return `${label(guest)} already running`;
  if (guest.type === 'qemu') {
    const bridge = missingBridge(cluster, guest);
    if (bridge) return bridge;
    applyAllPending(guest);
  }
  if (suspendedToDisk(guest)) guest.lock = undefined; // the saved state is loaded and removed
  cluster.setRunning(guest, true);
  return undefined;
}

/** vm_stop's work: stopping a stopped guest is a no-op that ends OK (no pid to kill). */
function stopIfRunning(cluster: ClusterState, guest: SimGuest): undefined {
  if (running(guest)) cluster.setRunning(guest, false);
  return undefined;
}

/** A guest OS that ignores the ACPI request: timeout, or SIGTERM with forceStop (QemuServer::_do_vm_stop). */
function shutdownVm(ctx: RouteContext, guest: SimGuest, task: SimTask, force: boolean): string | undefined {
  if (!running(guest)) return undefined;
  if (guest.ignoresShutdown && !guest.paused) {
    if (!force) return 'VM quit/powerdown failed - got timeout';
    warn(task, 'VM still running - terminating now with SIGTERM');
  }
  return stopIfRunning(ctx.cluster, guest);
}

const QEMU: Record<Action, ActionDef> = {
  start: {
    taskType: () => 'qmstart',
    rootOnly: [
      'stateuri',
      'skiplock',
      'migratedfrom',
      'migration_type',
      'migration_network',
      'targetstorage',
      'force-cpu',
      'with-conntrack-state',
      'nets-host-mtu',
    ],
    prepare: (g, ctx) => {
      if (g.template) return "you can't start a vm if it's a template";
      // a VM hibernated to disk keeps the `suspended` lock until this start resumes it
      return suspendedToDisk(g) ? undefined : unlessSkiplock(g, ctx);
    },
    run: (g, ctx) => startVm(ctx.cluster, g),
  },
  stop: {
    taskType: () => 'qmstop',
    rootOnly: ['skiplock', 'keepActive', 'migratedfrom'],
    prepare: unlessSkiplock,
    run: (g, ctx) => stopIfRunning(ctx.cluster, g),
  },
  shutdown: {
    taskType: () => 'qmshutdown',
    rootOnly: ['skiplock', 'keepActive'],
    precheck: (g, ctx) => (g.paused && !ctx.bool('forceStop') ? 'VM is paused - cannot shutdown' : undefined),
    prepare: unlessSkiplock,
    // a paused VM with forceStop is stopped instead ("VM is paused - stop instead of shutdown")
    run: (g, ctx, task) => shutdownVm(ctx, g, task, ctx.bool('forceStop')),
  },
  reboot: {
    taskType: () => 'qmreboot',
    precheck: (g) =>
      g.paused ? 'VM is paused - cannot shutdown' : running(g) ? undefined : `${label(g)} not running`,
    // vm_reboot takes no config lock check: qmeventd starts the VM again after the clean shutdown
    run: (g, ctx, task) => {
      if (!running(g)) return undefined;
      const failed = shutdownVm(ctx, g, task, false);
      if (failed) return failed;
      return startVm(ctx.cluster, g);
    },
  },
  reset: {
    taskType: () => 'qmreset',
    rootOnly: ['skiplock'],
    precheck: (g) => (running(g) ? undefined : `${label(g)} not running`),
    prepare: unlessSkiplock,
    run: (g, ctx) => {
      ctx.cluster.setRunning(g, true);
      return undefined;
    },
  },
  suspend: {
    taskType: (ctx) => (ctx.bool('todisk') ? 'qmsuspend' : 'qmpause'),
    rootOnly: ['skiplock'],
    precheck: (g) => (running(g) ? undefined : `${label(g)} not running`),
    prepare: unlessSkiplock,
    lock: (ctx) => (ctx.bool('todisk') ? 'suspending' : undefined),
    run: (g, ctx) => {
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
    rootOnly: ['skiplock', 'nocheck'],
    precheck: (g) => (running(g) || suspendedToDisk(g) ? undefined : `${label(g)} not running`),
    // vm_resume: nothing to do for a VM that runs; a backup lock does not block it
    prepare: (g, ctx) =>
      !suspendedToDisk(g) && g.paused && g.lock !== 'backup' ? unlessSkiplock(g, ctx) : undefined,
    run: (g, ctx) => {
      if (suspendedToDisk(g)) return startVm(ctx.cluster, g);
      g.paused = false;
      return undefined;
    },
  },
};

const mustRun = (g: SimGuest) => (running(g) ? undefined : `${label(g)} not running`);

const LXC: Partial<Record<Action, ActionDef>> = {
  start: {
    taskType: () => 'vzstart',
    rootOnly: ['skiplock'],
    precheck: (g) => (running(g) ? `${label(g)} already running` : undefined),
    prepare: unlessSkiplock,
    run: (g, ctx) => startVm(ctx.cluster, g),
  },
  stop: {
    taskType: () => 'vzstop',
    rootOnly: ['skiplock'],
    precheck: mustRun,
    prepare: unlessSkiplock,
    run: (g, ctx) => stopIfRunning(ctx.cluster, g),
  },
  shutdown: {
    taskType: () => 'vzshutdown',
    precheck: mustRun,
    prepare: unlessSkiplock,
    // a container that ignores the request keeps the task for `timeout` seconds (default 60)
    duration: (g, ctx) => (g.ignoresShutdown ? (ctx.int('timeout') ?? 60) * 1000 : undefined),
    run: (g, ctx) => shutdownCt(ctx, g, ctx.bool('forceStop')),
  },
  reboot: {
    taskType: () => 'vzreboot',
    precheck: mustRun,
    prepare: unlessSkiplock,
    duration: (g, ctx) => (g.ignoresShutdown ? (ctx.int('timeout') ?? 60) * 1000 : undefined),
    run: (g, ctx) => {
      const failed = shutdownCt(ctx, g, false);
      if (failed) return failed;
      ctx.cluster.setRunning(g, true);
      return undefined;
    },
  },
  suspend: {
    taskType: () => 'vzsuspend',
    precheck: mustRun,
    prepare: unlessSkiplock,
    run: (g) => void (g.paused = true),
  },
  resume: { taskType: () => 'vzresume', precheck: mustRun, run: (g) => void (g.paused = false) },
};

export function registerPowerRoutes(router: Router): void {
  for (const [type, actions] of [
    ['qemu', QEMU],
    ['lxc', LXC],
  ] as const) {
    for (const [action, def] of Object.entries(actions)) {
      router.post(`/nodes/{node}/${type}/{vmid}/status/${action}`, (ctx) => powerAction(ctx, type, def));
    }
    router.get(`/nodes/{node}/${type}/{vmid}/status`, (ctx) => {
      guestOf(ctx, type);
      const names = ['current', 'start', 'stop', 'reset', 'shutdown', 'suspend', 'reboot'];
      return (type === 'qemu' ? names : names.filter((n) => n !== 'reset')).map((subdir) => ({ subdir }));
    });
  }
}

/**
 * LXC::vm_stop with a shutdown timeout: a container whose init ignores the request is killed with forceStop,
 * otherwise the task fails (the text is a guess from pve-container's vm_stop).
 */
function shutdownCt(ctx: RouteContext, guest: SimGuest, force: boolean): string | undefined {
  if (!running(guest)) return undefined;
  if (guest.ignoresShutdown && !force) return 'container did not stop';
  return stopIfRunning(ctx.cluster, guest);
}

function powerAction(ctx: RouteContext, type: GuestType, def: ActionDef): string {
  ctx.rootOnly(...(def.rootOnly ?? []));
  const guest = guestOf(ctx, type);
  const refused = def.precheck?.(guest, ctx);
  if (refused) throw PveError.internal(refused);
  // writes to /etc/pve need quorum (PVE::Cluster::check_cfs_quorum)
  if (!ctx.cluster.isQuorate()) throw PveError.internal('cluster not ready - no quorum?');
  const lockName = def.lock?.(ctx);
  const durationMs = def.duration?.(guest, ctx);
  const task = ctx.tasks.start({
    node: guest.node,
    type: def.taskType(ctx),
    id: String(guest.vmid),
    user: ctx.authUser,
    prepare: def.prepare ? () => def.prepare!(guest, ctx) : undefined,
    run: (t) => def.run(guest, ctx, t),
    ...(lockName ? { lock: { guest, name: lockName } } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
  });
  return task.upid;
}
