import type { GuestType, SimGuest } from '../cluster-model.js';
import { PveError } from '../pve-error.js';
import { effectiveConfig, MASKED_PASSWORD } from '../qemu-config.js';
import type { RouteContext, Router } from '../router.js';
import { guestCurrentStatus, guestListItem, snapshotConfig } from '../views.js';

/** Guest reads for qemu and lxc: lists, config, current status, container interfaces (RRD data: rrd.ts). */
export function registerGuestRoutes(router: Router): void {
  for (const type of ['qemu', 'lxc'] as const) {
    router
      .get(`/nodes/{node}/${type}`, (ctx) =>
        ctx.cluster
          .guestsOn(ctx.node().name)
          .filter((g) => g.type === type)
          .map((g) => guestListItem(g, ctx.bool('full'))),
      )
      .get(`/nodes/{node}/${type}/{vmid}/config`, (ctx) => guestConfig(ctx, type))
      .get(`/nodes/{node}/${type}/{vmid}/status/current`, (ctx) => guestCurrentStatus(guestOf(ctx, type)));
  }
  router.get('/nodes/{node}/lxc/{vmid}/interfaces', containerInterfaces);
}

export function guestOf(ctx: RouteContext, type: GuestType): SimGuest {
  return ctx.cluster.requireGuest(ctx.node().name, type, ctx.vmid());
}

/** pve-cluster check_vmid_unused: "VM 100 already exists on node 'pve1'" / "CT 101 …" (one id space for both). */
export function alreadyExists(guest: SimGuest): string {
  return `${guest.type === 'qemu' ? 'VM' : 'CT'} ${guest.vmid} already exists on node '${guest.node}'`;
}

/**
 * A guest as a create, clone or restore adds it after its synchronous checks: stopped, locked, with an empty config
 * that its worker fills in.
 */
export function newGuest(
  type: GuestType,
  vmid: number,
  node: string,
  lock: string,
  load: Pick<SimGuest, 'cpuLoad' | 'memFraction'>,
): SimGuest {
  return {
    type,
    vmid,
    node,
    status: 'stopped',
    paused: false,
    config: {},
    startedAt: 0,
    pid: 0,
    lock,
    template: false,
    ...load,
    counters: { diskread: 0, diskwrite: 0, netin: 0, netout: 0 },
    diskBytes: 0,
    createdAt: Math.floor(Date.now() / 1000),
    snapshots: new Map(),
    ...(type === 'qemu' ? { agentAvailable: true } : {}),
  };
}

/**
 * GET …/config: the config with pending changes applied (`current=1`: without them), or a snapshot's section
 * (`snapshot=`), with the file's digest. A cloud-init password is never shown.
 */
function guestConfig(ctx: RouteContext, type: GuestType): unknown {
  const snapname = ctx.str('snapshot');
  if (snapname && ctx.bool('current')) {
    const msg = "cannot use 'snapshot' parameter with 'current'";
    throw PveError.params({ snapshot: msg, current: msg });
  }
  const guest = guestOf(ctx, type);
  const digest = ctx.cluster.digest(guest);
  if (snapname) {
    const snap = guest.snapshots.get(snapname);
    if (!snap) throw PveError.internal(`snapshot '${snapname}' does not exist`);
    return { ...snapshotConfig(snap), digest };
  }
  const config = effectiveConfig(guest, ctx.bool('current'));
  if (config.cipassword !== undefined) config.cipassword = MASKED_PASSWORD;
  return {
    ...config,
    ...(guest.lock ? { lock: guest.lock } : {}),
    ...(guest.parent ? { parent: guest.parent } : {}),
    ...(guest.template ? { template: 1 } : {}),
    digest,
  };
}

/** lo plus eth0 of a running container; `null` when it is stopped (PVE has nothing to read then). */
function containerInterfaces(ctx: RouteContext): unknown {
  const guest = guestOf(ctx, 'lxc');
  if (guest.status !== 'running') return null;
  const hwaddr = /hwaddr=([0-9A-Fa-f:]+)/.exec(String(guest.config.net0 ?? ''))?.[1]?.toLowerCase() ?? '';
  return [
    { name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128' },
    { name: 'eth0', hwaddr, ...(guest.ipv4 ? { inet: guest.ipv4 } : {}), inet6: linkLocal(hwaddr) },
  ];
}

/** fe80:: address derived from the MAC (EUI-64), as the kernel assigns it. */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  if (b.length !== 6 || b.some(Number.isNaN)) return 'fe80::1/64';
  const words = [((b[0] ^ 2) << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}/64`;
}
