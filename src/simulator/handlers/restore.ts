import { randomUUID } from 'node:crypto';
import type { BackupArchive, GuestConfig, GuestType, SimGuest, SimStorage } from '../cluster-model.js';
import {
  configVolumes,
  formatDrive,
  GiB,
  isCdrom,
  isCloudinit,
  isFileStorage,
  isQemuDriveKey,
  isVolumeKey,
  parseDrive,
  parseSize,
  volumeStorage,
} from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import {
  bootDiskBytes,
  configParams,
  createDisks,
  normalizeNet,
  randomMac,
  randomSmbiosUuid,
} from '../qemu-config.js';
import type { RouteContext } from '../router.js';
import { warn, type SimTask } from '../tasks.js';
import { alreadyExists, newGuest } from './guests.js';
import { lockError, startVm } from './power.js';
import { checkEnabled, findVolume, requireStorage, volumeType } from './storage-content.js';

/**
 * Restores after qemu-server create_vm with `archive` (`qmrestore`) and pve-container create_vm with `restore=1`
 * (`vzrestore`): they recreate the guest from the config a vzdump archive holds (vzdump.ts), with new disks. They
 * share PVE's create endpoints, so qemu-lifecycle.ts and lxc-lifecycle.ts call restoreVm / restoreContainer.
 */

/** The archive a restore names: a backup volume this node can read, with the guest it holds. */
function restoreArchive(ctx: RouteContext, node: string, volid: string): BackupArchive & { volid: string } {
  if (volid === '-') throw PveError.internal('pipe requires cli environment');
  const id = volumeStorage(volid);
  if (!id) throw PveError.internal('Only root can pass arbitrary filesystem paths.');
  const storage = requireStorage(ctx, id);
  if (volumeType(storage, volid) !== 'backup') {
    throw PveError.internal(`unable to use volume ${volid} - content type needs to be 'backup'`);
  }
  const volume = findVolume(ctx, node, storage, volid);
  if (!volume) throw PveError.internal(`can't find file '${volid}'`);
  const type: GuestType = volume.subtype ?? (/vzdump-lxc-/.test(volid) ? 'lxc' : 'qemu');
  return {
    volid,
    type,
    config: { ...(volume.backup?.config ?? {}) },
    template: volume.backup?.template ?? false,
  };
}

function checkPool(ctx: RouteContext): void {
  const pool = ctx.str('pool');
  if (pool !== undefined && !ctx.cluster.pools.has(pool)) {
    throw new PveError(403, `Permission check failed (pool '${pool}' does not exist)`);
  }
}

/** The load a restored guest starts with (VM and container alike). */
const RESTORED_LOAD = { cpuLoad: 0.02, memFraction: 0.35 };

/**
 * POST /nodes/{node}/qemu with `archive` (qmrestore). Synchronous: drive options conflict with `archive`, the archive
 * must be a backup volume this node can read, the vmid must be free unless `force` (then the VM must be here and
 * not locked). The VM exists (locked `create`) from then on. The worker refuses to overwrite a protected or running
 * VM, allocates every disk anew (on `storage`, else on the disk's original storage), writes the backed-up config
 * with a new vmgenid (`unique`: new MACs and SMBIOS UUID) and starts the VM with `start`.
 */
export function restoreVm(ctx: RouteContext): string {
  const node = ctx.node().name;
  const vmid = ctx.vmid();
  for (const key of Object.keys(ctx.params).sort()) {
    if (isQemuDriveKey(key)) throw PveError.params({ [key]: "option conflicts with option 'archive'" });
  }
  const archive = restoreArchive(ctx, node, ctx.str('archive') ?? '');
  if (!ctx.cluster.isQuorate()) throw PveError.internal('cluster not ready - no quorum?');
  checkPool(ctx);
  const emsg = `unable to restore VM ${vmid} -`;
  const force = ctx.bool('force');
  const existing = ctx.cluster.guest(vmid);
  if (existing && (!force || existing.type !== 'qemu' || existing.node !== node)) {
    throw PveError.internal(`${emsg} ${alreadyExists(existing)}`);
  }
  if (existing) {
    const locked = lockError(existing);
    if (locked) throw PveError.internal(`${emsg} ${locked}`);
    existing.lock = 'create';
  }
  const guest = existing ?? newGuest('qemu', vmid, node, 'create', RESTORED_LOAD);
  if (!existing) ctx.cluster.addGuest(guest);
  const storageId = ctx.str('storage');
  const totalBytes = configVolumes('qemu', archive.config)
    .filter((v) => !v.cdrom)
    .reduce((sum, v) => sum + v.size, 0);
  let restored = false;

  return ctx.tasks.start({
    node,
    type: 'qmrestore',
    id: String(vmid),
    user: ctx.authUser,
    log: [
      `restore vma archive: zstd -q -d -c ${archive.volid} | vma extract -v -r /var/tmp/vzdumptmp${vmid}.fifo - /var/tmp/vzdumptmp${vmid}`,
      `CFG: size: ${JSON.stringify(archive.config).length} name: qemu-server.conf`,
    ],
    ...(totalBytes
      ? {
          progress: (pct: number) =>
            `progress ${pct}% (read ${Math.round((totalBytes * pct) / 100)} bytes, duration ${Math.max(1, pct / 10)} sec)`,
        }
      : {}),
    run: (task) => {
      try {
        if (archive.type !== 'qemu') throw new Error(`${emsg} '${archive.volid}' is a container backup`);
        if (existing?.config.protection) throw new Error(`${emsg} protection mode enabled`);
        if (guest.status === 'running') throw new Error(`${emsg} vm is running`);
        // force: the old VM's disks are destroyed before the new ones are allocated
        guest.config = {};
        guest.snapshots.clear();
        guest.parent = undefined;
        guest.pending = undefined;
        guest.pendingDelete = undefined;
        guest.config = restoredQemuConfig(ctx, task, node, vmid, archive, storageId);
        restored = true;
      } catch (e) {
        guest.lock = undefined;
        warn(
          task,
          restored
            ? `error after data was restored, VM disks should be OK but config may require adaptions. VM ${vmid} state is NOT cleaned up.`
            : `error before or during data restore, some or all disks were not completely restored. VM ${vmid} state is NOT cleaned up.`,
        );
        throw e;
      }
      guest.template = archive.template;
      guest.diskBytes = bootDiskBytes(guest.config);
      guest.pool = ctx.str('pool') ?? guest.pool;
      guest.lock = undefined;
      task.log.push('rescan volumes...');
      if (ctx.bool('start')) {
        task.log.push('Execute autostart');
        const failed = startVm(ctx.cluster, guest);
        if (failed) warn(task, failed);
      }
      return undefined;
    },
    abort: () => {
      if (!existing) ctx.cluster.removeGuest(vmid);
      else guest.lock = undefined;
    },
  }).upid;
}

/** The backed-up config with every disk allocated anew: `vm-<vmid>-disk-<n>` on the target storage. */
function restoredQemuConfig(
  ctx: RouteContext,
  task: SimTask,
  node: string,
  vmid: number,
  archive: BackupArchive,
  storageId: string | undefined,
): GuestConfig {
  const requests: GuestConfig = {};
  const config: GuestConfig = {};
  for (const [key, value] of Object.entries(archive.config)) {
    if (/^unused\d+$/.test(key)) continue;
    if (!isQemuDriveKey(key)) {
      config[key] = value;
      continue;
    }
    const drive = parseDrive(String(value));
    const from = volumeStorage(drive.file);
    if (!from || (isCdrom(drive) && !isCloudinit(drive))) {
      config[key] = value;
      continue;
    }
    const to = storageId ?? from;
    const storage = ctx.cluster.storage(to);
    if (!storage) throw new Error(`storage '${to}' does not exist`);
    const refused = ctx.cluster.storageUnavailable(storage, node);
    if (refused) throw new Error(refused);
    if (!storage.content.includes('images'))
      throw new Error(`Content type 'images' is not available on storage '${to}'`);
    if (isCloudinit(drive)) {
      requests[key] = `${to}:cloudinit,media=cdrom`;
      continue;
    }
    const size = parseSize(drive.options.get('size'));
    task.log.push(`DEV: dev_id=${Object.keys(requests).length + 1} size: ${size} devname: drive-${key}`);
    drive.options.delete('size');
    drive.file = `${to}:${(size / GiB).toFixed(6).replace(/\.?0+$/, '') || '0.001'}`;
    requests[key] = formatDrive(drive);
  }
  const disks = createDisks(
    {
      cluster: ctx.cluster,
      node,
      vmid,
      template: archive.template,
      log: (line) =>
        task.log.push(
          line.replace(/^(\w+): successfully created disk '([^,']+).*$/, "new volume ID is '$2'"),
        ),
      allocated: new Map(),
    },
    requests,
  );
  Object.assign(config, disks);
  for (const key of Object.keys(config)) {
    if (/^net\d+$/.test(key) && ctx.bool('unique')) config[key] = normalizeNet(String(config[key]), true);
  }
  if (ctx.bool('unique') || config.smbios1 === undefined) config.smbios1 = randomSmbiosUuid();
  if (config.vmgenid !== undefined && String(config.vmgenid) !== '0') config.vmgenid = randomUUID();
  return config;
}

/** Control parameters of POST /nodes/{node}/lxc that are not config options. */
const LXC_CONTROL = new Set([
  'node',
  'vmid',
  'ostemplate',
  'restore',
  'force',
  'unique',
  'storage',
  'pool',
  'start',
  'bwlimit',
  'ignore-unpack-errors',
  'password',
  'ssh-public-keys',
  'ha-managed',
]);

/**
 * POST /nodes/{node}/lxc with `ostemplate=<backup volid>` and `restore=1` (vzrestore). Synchronous: the vmid must be
 * unused unless `force` names a container on this node (not protected, not running: "can't overwrite running
 * container"), the archive must be a backup this node can read, and the target `storage` (default `local`, as in
 * PVE) must hold container directories. The worker recreates the mount points with their backed-up sizes, writes
 * the backed-up config (given options win; `unique`: new MACs) and starts the container with `start`.
 */
export function restoreContainer(ctx: RouteContext): string {
  const node = ctx.node().name;
  const vmid = ctx.vmid();
  const force = ctx.bool('force');
  const existing = ctx.cluster.guest(vmid);
  const sameContainer = existing?.type === 'lxc' && existing.node === node;
  if (existing && !(sameContainer && force)) throw PveError.internal(alreadyExists(existing));
  if (existing?.config.protection)
    throw PveError.internal(`unable to restore CT ${vmid} - protection mode enabled`);
  checkPool(ctx);
  const archive = restoreArchive(ctx, node, ctx.str('ostemplate') ?? '');
  const storageId = ctx.str('storage') ?? 'local';
  const target = requireStorage(ctx, storageId);
  checkEnabled(ctx, target, node);
  if (!target.content.includes('rootdir')) {
    throw PveError.params({ storage: `storage '${storageId}' does not support container directories` });
  }
  if (existing?.status === 'running') throw PveError.internal("can't overwrite running container");
  const overrides = configParams(ctx, [...LXC_CONTROL]);

  let created: SimGuest | undefined;
  return ctx.tasks.start({
    node,
    type: 'vzrestore',
    id: String(vmid),
    user: ctx.authUser,
    log: [`recovering backed-up configuration from '${archive.volid}'`],
    prepare: () => {
      if (existing) {
        if (existing.status === 'running') return "can't overwrite running container";
        existing.lock = 'create';
        created = existing;
        return undefined;
      }
      if (ctx.cluster.guest(vmid)) return `Could not reserve ID ${vmid}, already taken`;
      created = newGuest('lxc', vmid, node, 'create', RESTORED_LOAD);
      ctx.cluster.addGuest(created);
      return undefined;
    },
    run: (task) => {
      const guest = created!;
      try {
        if (archive.type !== 'lxc') throw new Error(`'${archive.volid}' is not a container backup`);
        guest.config = {};
        guest.snapshots.clear();
        guest.parent = undefined;
        guest.config = restoredContainerConfig(ctx, task, node, vmid, archive, target, overrides);
      } catch (e) {
        // PVE destroys the new disks and the config of a failed restore
        ctx.cluster.removeGuest(vmid);
        throw e;
      }
      const rootfs = configVolumes('lxc', guest.config).find((v) => v.key === 'rootfs');
      guest.diskBytes = rootfs?.size ?? 0;
      const ip = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+\/\d+)/.exec(String(guest.config.net0 ?? ''))?.[1];
      guest.ipv4 = ip ?? `10.20.250.${(vmid % 250) + 2}/16`;
      guest.template = archive.template;
      guest.pool = ctx.str('pool') ?? guest.pool;
      guest.lock = undefined;
      if (ctx.bool('start')) {
        const failed = startVm(ctx.cluster, guest);
        if (failed) warn(task, failed);
      }
      return undefined;
    },
    abort: () => {
      if (created && !existing) ctx.cluster.removeGuest(vmid);
      else if (created) created.lock = undefined;
    },
  }).upid;
}

/** Mount points from the archive recreated on `target` (`vm-<vmid>-disk-<n>`, `<vmid>/…raw` on directories). */
function restoredContainerConfig(
  ctx: RouteContext,
  task: SimTask,
  node: string,
  vmid: number,
  archive: BackupArchive & { volid: string },
  target: SimStorage,
  overrides: GuestConfig,
): GuestConfig {
  const config: GuestConfig = {};
  const used = new Set([...ctx.cluster.volumeIds(node, target)].map((v) => v.replace(/^.*[:/]/, '')));
  let index = 0;
  const nextVolume = (): string => {
    for (;;) {
      const stem = `${target.type === 'zfspool' ? 'subvol' : 'vm'}-${vmid}-disk-${index++}`;
      const file = isFileStorage(target.type) ? `${stem}.raw` : stem;
      if (used.has(file)) continue;
      used.add(file);
      return isFileStorage(target.type) ? `${target.storage}:${vmid}/${file}` : `${target.storage}:${file}`;
    }
  };
  for (const [key, value] of Object.entries(archive.config)) {
    if (/^unused\d+$/.test(key)) continue;
    if (!isVolumeKey('lxc', key) || !volumeStorage(parseDrive(String(value)).file)) {
      config[key] = value;
      continue;
    }
    const drive = parseDrive(String(value));
    const size = parseSize(drive.options.get('size'));
    if (!size) throw new Error(`unable to detect disk size - please specify ${key} (size)`);
    drive.file = nextVolume();
    config[key] = formatDrive(drive);
    if (target.type === 'lvmthin')
      task.log.push(`  Logical volume "${drive.file.replace(/^.*:/, '')}" created.`);
    if (key === 'rootfs')
      task.log.push(`Creating filesystem with ${size / 4096} 4k blocks and ${size / 16384} inodes`);
  }
  if (!Object.keys(config).includes('rootfs')) {
    throw new Error('rootfs configuration could not be recovered, please check and specify manually!');
  }
  task.log.push(
    `restoring '${archive.volid}' now..`,
    `extracting archive '${archive.volid}'`,
    `Total bytes read: ${Math.round(parseSize(parseDrive(String(config.rootfs)).options.get('size')) * 0.35)}`,
    `Detected container architecture: ${String(config.arch ?? 'amd64')}`,
    'merging backed-up and given configuration..',
  );
  Object.assign(config, overrides);
  for (const key of Object.keys(config)) {
    if (!/^net\d+$/.test(key) || !ctx.bool('unique')) continue;
    config[key] = String(config[key]).replace(/(^|,)hwaddr=[^,]*/, `$1hwaddr=${randomMac()}`);
  }
  config.hostname ??= `CT${vmid}`;
  config.memory ??= 512;
  config.swap ??= 512;
  return config;
}
