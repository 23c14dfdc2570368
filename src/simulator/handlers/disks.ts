import type { GuestConfig, SimGuest, SimStorage } from '../cluster-model.js';
import {
  formatDrive,
  formatSize,
  isCdrom,
  isFileStorage,
  newVolumeName,
  parseDrive,
  parseSize,
  volumeFormat,
  volumeName,
  volumeStorage,
} from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import { storageConfig } from '../qemu-config.js';
import type { RouteContext, Router } from '../router.js';
import { warn, type SimTask } from '../tasks.js';
import { guestOf } from './guests.js';
import { checkRootdirStorage, ctVolume } from './lxc-lifecycle.js';
import { lockError } from './power.js';

/**
 * Disk operations after qemu-server and pve-container (PVE 9): a VM disk's resize (`resize`, its checks in the
 * worker as PVE 9 runs them) and move (`qmmove`), a container volume's move (`move_volume`) and the container
 * template conversion (synchronous, no task). Guest volumes live in their configs, so a move is a config change:
 * the copy takes the key, the source becomes `unusedN` unless `delete` is set.
 */
export function registerDiskRoutes(router: Router): void {
  router
    .put('/nodes/{node}/qemu/{vmid}/resize', resizeVmDisk)
    .post('/nodes/{node}/qemu/{vmid}/move_disk', moveVmDisk)
    .post('/nodes/{node}/lxc/{vmid}/move_volume', moveContainerVolume)
    .post('/nodes/{node}/lxc/{vmid}/template', makeContainerTemplate);
}

function checkDigestAndLock(ctx: RouteContext, guest: SimGuest): void {
  const digest = ctx.str('digest');
  if (digest && digest !== ctx.cluster.digest(guest)) {
    throw PveError.internal('checksum mismatch (file change by other user?)');
  }
  const locked = lockError(guest);
  if (locked) throw PveError.internal(locked);
}

/** qemu-server resize_vm: the new size (absolute or `+`), refusing to shrink; the config's `size=` grows. */
function resizeVmDisk(ctx: RouteContext): string {
  const guest = guestOf(ctx, 'qemu');
  const disk = ctx.str('disk') ?? '';
  const sizeText = ctx.str('size') ?? '';
  const grow = sizeText.startsWith('+');
  const requested = parseSize(grow ? sizeText.slice(1) : sizeText);
  const check = (): { drive: ReturnType<typeof parseDrive>; newBytes: number; current: number } => {
    checkDigestAndLock(ctx, guest);
    const value = guest.config[disk];
    if (value === undefined) throw PveError.internal(`disk '${disk}' does not exist`);
    const drive = parseDrive(String(value));
    if (isCdrom(drive)) throw PveError.internal("you can't resize a cdrom");
    if (!volumeStorage(drive.file)) throw PveError.internal(`can't resize volume: ${drive.file}`);
    const current = parseSize(drive.options.get('size'));
    const newBytes = Math.floor(grow ? current + requested : requested);
    if (newBytes < current) throw PveError.internal('shrinking disks is not supported');
    return { drive, newBytes, current };
  };
  return ctx.tasks.start({
    node: guest.node,
    type: 'resize',
    id: String(guest.vmid),
    user: ctx.authUser,
    run: (task) => {
      const { drive, newBytes, current } = check();
      // qemu-server returns quietly when the size does not change
      if (newBytes === current) return undefined;
      drive.options.set('size', formatSize(newBytes));
      guest.config[disk] = formatDrive(drive);
      if (disk === 'scsi0' || disk === 'virtio0') guest.diskBytes = newBytes;
      task.log.push(`  Size of logical volume ${volumeName(drive.file)} changed to ${formatSize(newBytes)}.`);
      return undefined;
    },
  }).upid;
}

/** The first free `unusedN` key (add_unused_volume). */
function addUnused(config: GuestConfig, volid: string): void {
  let n = 0;
  while (config[`unused${n}`] !== undefined) n++;
  config[`unused${n}`] = volid;
}

/** A new volume name that no volume on the target storage (as the node sees it) uses yet. */
function freeVolume(
  ctx: RouteContext,
  guest: SimGuest,
  to: SimStorage,
  make: (index: number) => string,
): string {
  // find_free_diskname looks at the target storage only
  const used = new Set(
    [...ctx.cluster.volumeIds(guest.node, to)].map((v) => volumeName(v).replace(/^.*\//, '')),
  );
  for (let index = 0; ; index++) {
    const volid = make(index);
    if (!used.has(volumeName(volid).replace(/^.*\//, ''))) return volid;
  }
}

/** is_volume_in_use_by_snapshots: a snapshot's config still names the volume. */
function inSnapshots(guest: SimGuest, volid: string): boolean {
  return [...guest.snapshots.values()].some((snap) =>
    Object.values(snap.config).some((v) => parseDrive(String(v)).file === volid),
  );
}

/**
 * Points `key` at the copy; the source is dropped (`delete`) or kept as unusedN, as it also is when a snapshot
 * still uses it (qemu-server warns and keeps it).
 */
function switchVolume(
  ctx: RouteContext,
  task: SimTask,
  guest: SimGuest,
  key: string,
  newVolid: string,
): string {
  const drive = parseDrive(String(guest.config[key]));
  const old = drive.file;
  drive.file = newVolid;
  guest.config[key] = formatDrive(drive);
  const keep = !ctx.bool('delete') || inSnapshots(guest, old);
  if (ctx.bool('delete') && keep) warn(task, `volume ${old} still has snapshots, can't delete it`);
  if (keep) addUnused(guest.config, old);
  else task.log.push(`  Logical volume "${volumeName(old)}" successfully removed.`);
  return old;
}

/** qemu-server move_vm_disk (to a storage; a move to another VM is not simulated). */
function moveVmDisk(ctx: RouteContext): string {
  const guest = guestOf(ctx, 'qemu');
  const disk = ctx.str('disk') ?? '';
  const storageId = ctx.str('storage');
  if (ctx.has('target-vmid')) throw PveError.internal('moving a disk to another VM is not simulated');
  if (!storageId) throw PveError.params({ storage: 'property is missing and it is not optional' });
  const format = ctx.str('format');
  const check = (): { to: SimStorage; from: string; fmt?: string } => {
    checkDigestAndLock(ctx, guest);
    const value = guest.config[disk];
    if (value === undefined) throw PveError.internal(`disk '${disk}' does not exist`);
    const drive = parseDrive(String(value));
    if (isCdrom(drive)) throw PveError.internal("you can't move a cdrom");
    const oldStorage = storageConfig(ctx.cluster, volumeStorage(drive.file) ?? '');
    const to = storageConfig(ctx.cluster, storageId);
    const refused = ctx.cluster.storageUnavailable(to, guest.node);
    if (refused) throw PveError.internal(refused);
    if (!to.content.includes('images'))
      throw PveError.internal(`storage '${storageId}' does not support vm images`);
    const oldFormat = volumeFormat(drive.file, oldStorage.type, 'qemu');
    if (oldStorage.storage === to.storage && (!format || oldFormat === format)) {
      throw PveError.internal("you can't move to the same storage with same format");
    }
    const fmt = isFileStorage(to.type)
      ? (format ?? (isFileStorage(oldStorage.type) ? oldFormat : 'raw'))
      : undefined;
    return { to, from: drive.file, fmt };
  };
  const { from } = check();
  return ctx.tasks.start({
    node: guest.node,
    type: 'qmmove',
    id: String(guest.vmid),
    user: ctx.authUser,
    log: [`create full clone of drive ${disk} (${from})`],
    run: (task) => {
      const { to, fmt } = check();
      const newVolid = freeVolume(ctx, guest, to, (i) => newVolumeName(to, guest.vmid, i, { format: fmt }));
      if (guest.status === 'running') task.log.push(`drive mirror is starting for drive-${disk}`);
      switchVolume(ctx, task, guest, disk, newVolid);
      return undefined;
    },
  }).upid;
}

/** pve-container move_volume (to a storage): refused while the container runs. */
function moveContainerVolume(ctx: RouteContext): string {
  const guest = guestOf(ctx, 'lxc');
  const volume = ctx.str('volume') ?? '';
  const storageId = ctx.str('storage');
  if (ctx.has('target-vmid'))
    throw PveError.internal('moving a volume to another container is not simulated');
  if (!storageId) throw PveError.internal('storage is required when not moving to another container');
  const check = (): SimStorage => {
    checkDigestAndLock(ctx, guest);
    if (guest.status === 'running') throw PveError.internal('cannot move volumes of a running container');
    const value = guest.config[volume];
    if (value === undefined) throw PveError.internal(`volume '${volume}' does not exist`);
    const drive = parseDrive(String(value));
    const to = checkRootdirStorage(ctx.cluster, storageId, guest.node);
    if (ctx.bool('delete') && inSnapshots(guest, drive.file)) {
      throw PveError.internal("you can't move a volume with snapshots and delete the source");
    }
    if (volumeStorage(drive.file) === to.storage)
      throw PveError.internal("you can't move a volume to the same storage");
    return to;
  };
  check();
  return ctx.tasks.start({
    node: guest.node,
    type: 'move_volume',
    id: String(guest.vmid),
    user: ctx.authUser,
    lock: { guest, name: 'disk' },
    run: (task) => {
      // the worker holds the `disk` lock it set; the storage is checked again
      const to = checkRootdirStorage(ctx.cluster, storageId, guest.node);
      const newVolid = freeVolume(ctx, guest, to, (i) => ctVolume(to, guest.vmid, i));
      task.log.push(`moving volume '${volume}' to '${newVolid}'`);
      switchVolume(ctx, task, guest, volume, newVolid);
      return undefined;
    },
  }).upid;
}

/** pve-container template: at once; each volume becomes a base volume (vm- → base-, subvol- → basevol-). */
function makeContainerTemplate(ctx: RouteContext): null {
  const guest = guestOf(ctx, 'lxc');
  const locked = lockError(guest);
  if (locked) throw PveError.internal(locked);
  if (guest.snapshots.size)
    throw PveError.internal('unable to create template, because CT contains snapshots');
  if (guest.template) throw PveError.internal("you can't convert a template to a template");
  if (guest.status === 'running')
    throw PveError.internal("you can't convert a CT to template if the CT is running");
  for (const key of Object.keys(guest.config)) {
    if (key !== 'rootfs' && !/^mp\d+$/.test(key)) continue;
    const drive = parseDrive(String(guest.config[key]));
    if (!volumeStorage(drive.file)) continue;
    drive.file = drive.file
      .replace(/(^|[:/])vm-(\d+-disk-\d+)/, '$1base-$2')
      .replace(/(^|[:/])subvol-(\d+-disk-\d+)/, '$1basevol-$2');
    guest.config[key] = formatDrive(drive);
  }
  guest.template = true;
  return null;
}
