import type { GuestConfig, GuestType, SimGuest, SimSnapshot } from '../cluster-model.js';
import {
  configVolumes,
  isCdrom,
  isQemuDriveKey,
  parseDrive,
  rollbackNeedsMostRecent,
  volumeHasFeature,
  volumeOwner,
  volumeStorage,
} from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import type { SimTask } from '../tasks.js';
import { snapshotConfig } from '../views.js';
import { lockError, startVm } from './power.js';

/**
 * Snapshots of VMs and containers (guest-common AbstractConfig.pm snapshot_create/_delete/_rollback, qemu-server
 * API2/Qemu.pm, pve-container API2/LXC/Snapshot.pm). Only reserved names and a missing qemu config fail at once;
 * everything else (lock, "already used", "does not exist", storage features) fails inside the task, as in PVE.
 */
const TASK_TYPES: Record<GuestType, { create: string; rollback: string; remove: string }> = {
  qemu: { create: 'qmsnapshot', rollback: 'qmrollback', remove: 'qmdelsnapshot' },
  lxc: { create: 'vzsnapshot', rollback: 'vzrollback', remove: 'vzdelsnapshot' },
};

export function registerSnapshotRoutes(router: Router): void {
  for (const type of ['qemu', 'lxc'] as const) {
    const base = `/nodes/{node}/${type}/{vmid}/snapshot`;
    router
      .get(base, (ctx) => listSnapshots(ctx, type))
      .post(base, (ctx) => createSnapshot(ctx, type))
      .get(`${base}/{snapname}`, () => [{ cmd: 'rollback' }, { cmd: 'config' }])
      .delete(`${base}/{snapname}`, (ctx) => deleteSnapshot(ctx, type))
      .get(`${base}/{snapname}/config`, (ctx) =>
        snapshotConfig(existingSnapshot(guestOfType(ctx, type), ctx)),
      )
      .put(`${base}/{snapname}/config`, (ctx) => updateSnapshot(ctx, type))
      .post(`${base}/{snapname}/rollback`, (ctx) => rollbackSnapshot(ctx, type));
  }
}

function guestOfType(ctx: RouteContext, type: GuestType): SimGuest {
  return ctx.cluster.requireGuest(ctx.node().name, type, ctx.vmid());
}

function existingSnapshot(guest: SimGuest, ctx: RouteContext): SimSnapshot {
  const name = ctx.str('snapname') ?? '';
  const snap = guest.snapshots.get(name);
  if (!snap) throw PveError.internal(`snapshot '${name}' does not exist`);
  return snap;
}

function listSnapshots(ctx: RouteContext, type: GuestType): unknown {
  const guest = guestOfType(ctx, type);
  const items: Array<Record<string, unknown>> = [...guest.snapshots.values()]
    .sort((a, b) => a.snaptime - b.snaptime)
    .map((s) => ({
      name: s.name,
      snaptime: s.snaptime || 0,
      ...(type === 'qemu' ? { vmstate: s.vmstate ? 1 : 0 } : {}),
      description: s.description ?? '',
      ...(s.parent ? { parent: s.parent } : {}),
      ...(s.snapstate ? { snapstate: s.snapstate } : {}),
    }));
  items.push({
    name: 'current',
    digest: ctx.cluster.digest(guest),
    running: guest.status === 'running' ? 1 : 0,
    description: 'You are here!',
    ...(guest.parent ? { parent: guest.parent } : {}),
  });
  return items;
}

/** The volumes a snapshot covers: qemu disks (not cdrom media), container rootfs and mount points. */
function snapshotVolumes(type: GuestType, config: GuestConfig): Array<{ key: string; volid: string }> {
  const out: Array<{ key: string; volid: string }> = [];
  for (const [key, value] of Object.entries(config)) {
    if (type === 'qemu' ? !isQemuDriveKey(key) : key !== 'rootfs' && !/^mp\d+$/.test(key)) continue;
    const drive = parseDrive(String(value));
    if (type === 'qemu' && (isCdrom(drive) || drive.file === 'none')) continue;
    out.push({ key, volid: drive.file });
  }
  return out;
}

/** has_feature('snapshot'): every volume's storage can snapshot it. */
function canSnapshot(ctx: RouteContext, guest: SimGuest): boolean {
  return snapshotVolumes(guest.type, guest.config).every(({ volid }) => {
    const storage = ctx.cluster.storage(volumeStorage(volid) ?? '');
    return storage !== undefined && volumeHasFeature(storage.type, 'snapshot', volid, false, guest.type);
  });
}

/** find_vmstate_storage: `vmstatestorage`, else the first shared disk storage, else the first disk's storage. */
function vmstateStorage(ctx: RouteContext, guest: SimGuest): string {
  if (guest.config.vmstatestorage) return String(guest.config.vmstatestorage);
  const stores = snapshotVolumes('qemu', guest.config)
    .map(({ volid }) => ctx.cluster.storage(volumeStorage(volid) ?? ''))
    .filter((s) => s !== undefined);
  return (stores.find((s) => s.shared) ?? stores[0])?.storage ?? 'local';
}

function createSnapshot(ctx: RouteContext, type: GuestType): string {
  const name = ctx.str('snapname') ?? '';
  if (name === 'current') throw PveError.internal("unable to use snapshot name 'current' (reserved name)");
  if (type === 'qemu' && name.toLowerCase() === 'pending') {
    throw PveError.internal("unable to use snapshot name 'pending' (reserved name)");
  }
  if (type === 'lxc' && name === 'vzdump') {
    throw PveError.internal("unable to use snapshot name 'vzdump' (reserved name)");
  }
  const node = ctx.node().name;
  const vmid = ctx.vmid();
  // qemu loads the config before forking (check_non_migratable_resources); pve-container only in the worker
  let guest = type === 'qemu' ? guestOfType(ctx, type) : ctx.cluster.guest(vmid);
  return ctx.tasks.start({
    node,
    type: TASK_TYPES[type].create,
    id: String(vmid),
    user: ctx.authUser,
    prepare: (task) => {
      guest = guestOfType(ctx, type);
      const g = guest;
      if (g.template) return "you can't take a snapshot if it's a template";
      const locked = lockError(g);
      if (locked) return locked;
      if (g.snapshots.has(name)) return `snapshot name '${name}' already used`;
      if (!canSnapshot(ctx, g)) return 'snapshot feature is not available';
      const { description: _d, ...config } = g.config;
      for (const key of Object.keys(config)) if (/^unused\d+$/.test(key)) delete config[key];
      const withRam = type === 'qemu' && ctx.bool('vmstate') && g.status === 'running';
      const snap: SimSnapshot = {
        name,
        snaptime: Math.floor(Date.now() / 1000),
        snapstate: 'prepare',
        config,
        ...(ctx.str('description') ? { description: ctx.str('description') } : {}),
        ...(g.parent ? { parent: g.parent } : {}),
      };
      if (withRam) {
        const storage = vmstateStorage(ctx, g);
        snap.vmstate = `${storage}:vm-${g.vmid}-state-${name}`;
        config.runningmachine = 'pc-i440fx-9.2+pve1';
        task.log.push(`saving VM state and RAM using storage '${storage}'`);
      }
      g.snapshots.set(name, snap);
      g.lock = 'snapshot';
      for (const { key, volid } of snapshotVolumes(type, config)) {
        task.log.push(
          type === 'qemu' ? `snapshotting 'drive-${key}' (${volid})` : `snapshotting '${key}' (${volid})`,
        );
      }
      return undefined;
    },
    run: () => {
      const snap = guest?.snapshots.get(name);
      if (!guest || !snap) return `snapshot '${name}' does not exist`;
      delete snap.snapstate;
      guest.parent = name;
      guest.lock = undefined;
      return undefined;
    },
    abort: () => {
      // snapshot_create cleans up a half-made snapshot
      guest?.snapshots.delete(name);
      if (guest?.lock === 'snapshot') guest.lock = undefined;
    },
  }).upid;
}

function updateSnapshot(ctx: RouteContext, type: GuestType): null {
  // PVE returns before any check when there is nothing to change
  if (ctx.str('description') === undefined) return null;
  const guest = guestOfType(ctx, type);
  const locked = lockError(guest);
  if (locked) throw PveError.internal(locked);
  existingSnapshot(guest, ctx).description = ctx.str('description');
  return null;
}

/** __snapshot_rollback_vol_possible: ZFS can only roll back to a volume's most recent snapshot. */
function rollbackBlocker(ctx: RouteContext, guest: SimGuest, snap: SimSnapshot): string | undefined {
  // the map keeps creation order: what follows `snap` is newer
  const all = [...guest.snapshots.values()];
  const newer = all.slice(all.indexOf(snap) + 1);
  for (const { volid } of snapshotVolumes(guest.type, snap.config)) {
    const storage = ctx.cluster.storage(volumeStorage(volid) ?? '');
    if (!storage || !rollbackNeedsMostRecent(storage.type)) continue;
    if (newer.some((s) => snapshotVolumes(guest.type, s.config).some((v) => v.volid === volid))) {
      return `can't rollback, '${snap.name}' is not most recent snapshot on '${volid}'`;
    }
  }
  return undefined;
}

function rollbackSnapshot(ctx: RouteContext, type: GuestType): string {
  const name = ctx.str('snapname') ?? '';
  const node = ctx.node().name;
  const vmid = ctx.vmid();
  let guest: SimGuest | undefined;
  let snap: SimSnapshot | undefined;
  return ctx.tasks.start({
    node,
    type: TASK_TYPES[type].rollback,
    id: String(vmid),
    user: ctx.authUser,
    prepare: () => {
      const g = (guest = guestOfType(ctx, type));
      if (g.template) return "you can't rollback if vm is a template";
      const s = (snap = g.snapshots.get(name));
      if (!s) return `snapshot '${name}' does not exist`;
      const blocked = rollbackBlocker(ctx, g, s);
      if (blocked) return blocked;
      if (s.snapstate) return `unable to rollback to incomplete snapshot (snapstate = ${s.snapstate})`;
      const locked = lockError(g);
      if (locked) return locked;
      // __snapshot_rollback_vm_stop: the guest is killed before its disks are rolled back
      if (g.status === 'running') ctx.cluster.setRunning(g, false);
      g.lock = 'rollback';
      return undefined;
    },
    run: (task) => {
      if (!guest || !snap) return `snapshot '${name}' does not exist`;
      applySnapshot(guest, snap);
      guest.lock = undefined;
      if (snap.vmstate) {
        // a snapshot with RAM resumes where it was taken
        ctx.cluster.setRunning(guest, true);
      } else if (ctx.bool('start')) {
        task.log.push(`Starting ${type === 'qemu' ? 'VM' : 'CT'} ${guest.vmid}`);
        return startVm(ctx.cluster, guest);
      }
      return undefined;
    },
    abort: () => {
      if (guest?.lock === 'rollback') guest.lock = undefined;
    },
  }).upid;
}

/** __snapshot_apply_config: the snapshot's options, keeping description and unusedN; leftover disks become unused. */
function applySnapshot(guest: SimGuest, snap: SimSnapshot): void {
  const keep: GuestConfig = {};
  for (const [key, value] of Object.entries(guest.config)) {
    if (key === 'description' || /^unused\d+$/.test(key)) keep[key] = value;
  }
  const snapVolids = new Set(configVolumes(guest.type, snap.config).map((v) => v.volid));
  const leftover = configVolumes(guest.type, guest.config).filter(
    (v) =>
      !v.cdrom && !/^unused/.test(v.key) && !snapVolids.has(v.volid) && volumeOwner(v.volid) === guest.vmid,
  );
  const { runningmachine: _m, runningcpu: _c, ...config } = snap.config;
  guest.config = { ...keep, ...config };
  for (const v of leftover) {
    for (let i = 0; i < 256; i++) {
      if (guest.config[`unused${i}`] === undefined) {
        guest.config[`unused${i}`] = v.volid;
        break;
      }
    }
  }
  guest.pending = undefined;
  guest.pendingDelete = undefined;
  guest.parent = snap.name;
}

function deleteSnapshot(ctx: RouteContext, type: GuestType): string {
  const name = ctx.str('snapname') ?? '';
  const node = ctx.node().name;
  const vmid = ctx.vmid();
  let guest: SimGuest | undefined;
  return ctx.tasks.start({
    node,
    type: TASK_TYPES[type].remove,
    id: String(vmid),
    user: ctx.authUser,
    prepare: (task: SimTask) => {
      const g = (guest = guestOfType(ctx, type));
      const snap = g.snapshots.get(name);
      if (!snap) return `snapshot '${name}' does not exist`;
      const locked = lockError(g);
      if (locked) return locked;
      if (g.template) return "you can't delete a snapshot if vm is a template";
      g.lock = 'snapshot-delete';
      snap.snapstate = 'delete';
      if (snap.vmstate) task.log.push(`removing vmstate '${snap.vmstate}'`);
      return undefined;
    },
    run: () => {
      const g = guest;
      const snap = g?.snapshots.get(name);
      if (!g || !snap) return `snapshot '${name}' does not exist`;
      // children move up to the deleted snapshot's parent
      if (g.parent === name) g.parent = snap.parent;
      for (const other of g.snapshots.values()) {
        if (other.parent === name) {
          if (snap.parent) other.parent = snap.parent;
          else delete other.parent;
        }
      }
      g.snapshots.delete(name);
      g.lock = undefined;
      return undefined;
    },
    abort: () => {
      const snap = guest?.snapshots.get(name);
      if (snap) delete snap.snapstate;
      if (guest?.lock === 'snapshot-delete') guest.lock = undefined;
    },
  }).upid;
}
