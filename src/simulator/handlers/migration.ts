import type { GuestType, SimGuest, SimNode, SimStorage } from '../cluster-model.js';
import type { ClusterState } from '../cluster-state.js';
import { configVolumes, formatDrive, parseDrive, volumeStorage } from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { warn } from '../tasks.js';
import { guestOf } from './guests.js';
import { lockError } from './power.js';

/**
 * Migration after qemu-server (`migrate_vm_precondition`, `migrate_vm` → `qmigrate`) and pve-container
 * (`vzmigrate`, restart mode). Local volumes follow the guest: a volume on a storage the target node also has keeps
 * its volid; `targetstorage` maps source storages to others there. The worker checks again when it runs, so a
 * target that goes offline or loses a storage while the task runs fails it, and the guest stays where it was.
 */
export function registerMigrationRoutes(router: Router): void {
  router
    .get('/nodes/{node}/qemu/{vmid}/migrate', (ctx) => precondition(ctx, 'qemu'))
    .get('/nodes/{node}/lxc/{vmid}/migrate', (ctx) => precondition(ctx, 'lxc'))
    .post('/nodes/{node}/qemu/{vmid}/migrate', migrateVm)
    .post('/nodes/{node}/lxc/{vmid}/migrate', migrateContainer);
}

/** qemu-server check_local_resources: passed-through devices tie a VM to its host. */
function localResources(guest: SimGuest): string[] {
  if (guest.type !== 'qemu') return [];
  return Object.entries(guest.config)
    .filter(([key, value]) => {
      if (/^hostpci\d+$/.test(key)) return !/(?:^|,)mapping=/.test(String(value));
      if (/^usb\d+$/.test(key)) return !/(?:^|,)host=spice|mapping=/.test(String(value));
      return /^(?:serial|parallel)\d+$/.test(key) && String(value).startsWith('/dev/');
    })
    .map(([key]) => key);
}

interface LocalVolume {
  key: string;
  volid: string;
  size: number;
  cdrom: boolean;
  storage: SimStorage;
}

/** The guest's volumes on storages that are not shared (they have to be copied to the target). */
function localVolumes(cluster: ClusterState, guest: SimGuest): LocalVolume[] {
  const out: LocalVolume[] = [];
  for (const ref of configVolumes(guest.type, guest.config)) {
    const storage = cluster.storage(volumeStorage(ref.volid) ?? '');
    if (storage && !storage.shared) out.push({ ...ref, storage });
  }
  return out;
}

/** The storages (after the `targetstorage` mapping) a node lacks for the guest's volumes. */
function unavailableStorages(
  cluster: ClusterState,
  guest: SimGuest,
  node: string,
  map: (source: string) => string,
): string[] {
  const missing = new Set<string>();
  for (const ref of configVolumes(guest.type, guest.config)) {
    const source = volumeStorage(ref.volid) ?? '';
    const storage = cluster.storage(map(source));
    if (!storage || cluster.storageUnavailable(storage, node)) missing.add(map(source));
  }
  return [...missing].sort();
}

function precondition(ctx: RouteContext, type: GuestType): Record<string, unknown> {
  const guest = guestOf(ctx, type);
  const target = ctx.str('target');
  if (target !== undefined && !ctx.cluster.node(target))
    throw PveError.internal(`no such cluster node '${target}'`);
  const allowed: string[] = [];
  const notAllowed: Record<string, { unavailable_storages: string[] }> = {};
  for (const node of ctx.cluster.nodes()) {
    if (node.name === guest.node || (target !== undefined && node.name !== target)) continue;
    const missing = unavailableStorages(ctx.cluster, guest, node.name, (s) => s);
    if (missing.length) notAllowed[node.name] = { unavailable_storages: missing };
    else allowed.push(node.name);
  }
  const running = guest.status === 'running';
  if (type === 'lxc') return { running, 'allowed-nodes': allowed, 'not-allowed-nodes': notAllowed };
  return {
    running,
    allowed_nodes: allowed,
    not_allowed_nodes: notAllowed,
    local_disks: localVolumes(ctx.cluster, guest).map((v) => ({
      volid: v.volid,
      size: v.size,
      cdrom: v.cdrom,
      is_unused: /^unused\d+$/.test(v.key),
    })),
    local_resources: localResources(guest),
    'mapped-resources': [],
    'mapped-resource-info': {},
    'has-dbus-vmstate': false,
  };
}

/** PVE::JSONSchema storage-pair-list: `1` (each to itself), one storage for all, or `from:to,…`. */
function storageMap(text: string | undefined): (source: string) => string {
  if (text === undefined || text === '1') return (s) => s;
  const pairs = text.split(/[,;]\s*/).map((p) => p.split(':'));
  if (pairs.length === 1 && pairs[0].length === 1) return () => pairs[0][0];
  const map = new Map<string, string>();
  let fallback: string | undefined;
  for (const pair of pairs) {
    if (pair.length === 1) fallback = pair[0];
    else map.set(pair[0], pair[1]);
  }
  return (s) => map.get(s) ?? fallback ?? s;
}

/** The synchronous checks of migrate_vm / pct migrate: the target node exists, is not this one and is online. */
function targetNode(ctx: RouteContext, guest: SimGuest): SimNode {
  const name = ctx.str('target') ?? '';
  if (name === guest.node) throw PveError.params({ target: 'target is local node.' });
  const node = ctx.cluster.node(name);
  if (!node) throw PveError.params({ target: `no such cluster node '${name}'` });
  if (!node.online) throw PveError.internal(`target node '${name}' is not online`);
  return node;
}

/** Moves the guest, its local volumes renamed to the mapped storage, to `node` (the end of a migration). */
function moveTo(ctx: RouteContext, guest: SimGuest, node: string, map: (source: string) => string): string[] {
  const log: string[] = [];
  for (const volume of localVolumes(ctx.cluster, guest)) {
    const drive = parseDrive(String(guest.config[volume.key]));
    const to = map(volume.storage.storage);
    drive.file = `${to}:${drive.file.slice(drive.file.indexOf(':') + 1)}`;
    guest.config[volume.key] = formatDrive(drive);
    log.push(`copying local disk '${volume.volid}' to '${drive.file}' on node '${node}'`);
  }
  ctx.cluster.moveGuest(guest, node);
  return log;
}

/** The worker's checks, made again when it runs: the target may have gone offline or lost a storage meanwhile. */
function checkTarget(ctx: RouteContext, guest: SimGuest, node: string, map: (s: string) => string): void {
  if (!ctx.cluster.node(node)?.online) {
    throw PveError.internal(
      `migration aborted: Can't connect to destination address using public key (node '${node}' is offline)`,
    );
  }
  const missing = unavailableStorages(ctx.cluster, guest, node, map);
  if (missing.length) throw PveError.internal(`storage '${missing[0]}' is not available on node '${node}'`);
}

function migrateVm(ctx: RouteContext): string {
  const guest = guestOf(ctx, 'qemu');
  const node = targetNode(ctx, guest);
  ctx.rootOnly('force');
  const locked = lockError(guest);
  if (locked) throw PveError.internal(locked);
  const running = guest.status === 'running';
  if (running && !ctx.bool('online')) {
    throw PveError.internal("can't migrate running VM without --online");
  }
  const resources = localResources(guest);
  if (resources.length && !ctx.bool('force')) {
    throw PveError.internal(`can't migrate VM which uses local devices: ${resources.join(', ')}`);
  }
  const local = localVolumes(ctx.cluster, guest);
  const cdrom = local.find((v) => v.cdrom);
  if (cdrom) throw PveError.internal(`can't migrate local cdrom drive (${cdrom.key}: ${cdrom.volid})`);
  if (running && local.length && !ctx.bool('with-local-disks')) {
    throw PveError.internal(
      `can't live migrate attached local disks without with-local-disks option (${local[0].volid})`,
    );
  }
  const map = storageMap(ctx.str('targetstorage'));
  return ctx.tasks.start({
    node: guest.node,
    type: 'qmigrate',
    id: String(guest.vmid),
    user: ctx.authUser,
    lock: { guest, name: 'migrate' },
    log: [`starting migration of VM ${guest.vmid} to node '${node.name}' (${node.ip})`],
    progress: (p) => `migration active, transferred ${p}% of VM state`,
    prepare: () => checkTarget(ctx, guest, node.name, map),
    run: (task) => {
      checkTarget(ctx, guest, node.name, map);
      task.log.push(...moveTo(ctx, guest, node.name, map));
      if (running) task.log.push('migration status: completed', `start final cleanup`);
      task.log.push(`migration finished successfully`);
      return undefined;
    },
  }).upid;
}

/** pct migrate: a running container moves only in restart mode (shut down, copied, started on the target). */
function migrateContainer(ctx: RouteContext): string {
  const guest = guestOf(ctx, 'lxc');
  const node = targetNode(ctx, guest);
  const locked = lockError(guest);
  if (locked) throw PveError.internal(locked);
  const running = guest.status === 'running';
  if (running && ctx.bool('online'))
    throw PveError.internal('lxc live migration is currently not implemented');
  if (running && !ctx.bool('restart')) {
    throw PveError.internal('CT is running - use --online or --restart to migrate');
  }
  const mounts = Object.entries(guest.config).filter(
    ([key, value]) => /^mp\d+$/.test(key) && String(value).startsWith('/'),
  );
  if (mounts.length) throw PveError.internal(`cannot migrate local bind mount point '${mounts[0][0]}'`);
  const map = storageMap(ctx.str('target-storage'));
  const timeout = ctx.int('timeout') ?? 180;
  return ctx.tasks.start({
    node: guest.node,
    type: 'vzmigrate',
    id: String(guest.vmid),
    user: ctx.authUser,
    lock: { guest, name: 'migrate' },
    log: [`starting migration of CT ${guest.vmid} to node '${node.name}' (${node.ip})`],
    prepare: () => checkTarget(ctx, guest, node.name, map),
    run: (task) => {
      checkTarget(ctx, guest, node.name, map);
      if (running) {
        task.log.push(`shutdown CT ${guest.vmid} (timeout ${timeout}s)`);
        if (guest.ignoresShutdown)
          warn(task, `shutdown timed out after ${timeout}s, stopping CT ${guest.vmid}`);
        ctx.cluster.setRunning(guest, false);
      }
      task.log.push(...moveTo(ctx, guest, node.name, map));
      if (running) {
        task.log.push(`start container on target node`);
        ctx.cluster.setRunning(guest, true);
      }
      task.log.push('migration finished successfully');
      return undefined;
    },
  }).upid;
}
