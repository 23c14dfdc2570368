import { randomUUID } from 'node:crypto';
import type { GuestConfig, SimGuest, SimStorage } from '../cluster-model.js';
import {
  formatDrive,
  isCdrom,
  isCloudinit,
  isFileStorage,
  isQemuDriveKey,
  newVolumeName,
  parseDrive,
  parseSize,
  volumeFormat,
  volumeHasFeature,
  volumeName,
  volumeOwner,
  volumeStorage,
  type VolumeFeature,
} from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import {
  bootDiskBytes,
  checkDriveParams,
  configParams,
  createDisks,
  defaultBoot,
  normalizeNet,
  randomSmbiosUuid,
  storageConfig,
  storeCiPassword,
  uniqueTags,
  usableStorage,
  validateSshKeys,
  type DiskContext,
} from '../qemu-config.js';
import type { RouteContext, Router } from '../router.js';
import { warn, type SimTask } from '../tasks.js';
import { alreadyExists, guestOf, newGuest } from './guests.js';
import { restoreVm } from './restore.js';
import { lockError, startVm } from './power.js';

/**
 * VM lifecycle after qemu-server API2/Qemu.pm: create_vm (`qmcreate`), destroy_vm (`qmdestroy`), clone_vm
 * (`qmclone`), template (`qmtemplate`) and the feature check. As in PVE, a new VM exists (locked `create`/`clone`)
 * from the moment its worker starts, and disappears again when the worker fails.
 */
export function registerQemuLifecycleRoutes(router: Router): void {
  router
    .post('/nodes/{node}/qemu', createVm)
    .get('/nodes/{node}/qemu/{vmid}', () => VM_SUBDIRS.map((subdir) => ({ subdir })))
    .delete('/nodes/{node}/qemu/{vmid}', destroyVm)
    .post('/nodes/{node}/qemu/{vmid}/clone', cloneVm)
    .post('/nodes/{node}/qemu/{vmid}/template', makeTemplate)
    .get('/nodes/{node}/qemu/{vmid}/feature', feature);
}

const VM_SUBDIRS = [
  'config',
  'cloudinit',
  'pending',
  'status',
  'unlink',
  'vncproxy',
  'termproxy',
  'migrate',
  'resize',
  'move',
  'rrd',
  'rrddata',
  'monitor',
  'agent',
  'snapshot',
  'spiceproxy',
  'sendkey',
  'firewall',
  'mtunnel',
  'remote_migrate',
];

const CREATE_CONTROL = [
  'archive',
  'bwlimit',
  'force',
  'pool',
  'start',
  'ha-managed',
  'storage',
  'unique',
  'live-restore',
  'import-working-storage',
];

function checkQuorum(ctx: RouteContext): void {
  if (!ctx.cluster.isQuorate()) throw PveError.internal('cluster not ready - no quorum?');
}

/** RPCEnvironment::check_pool_exist: a permission error for a pool that is not in user.cfg. */
function checkPool(ctx: RouteContext, pool: string | undefined): void {
  if (pool !== undefined && !ctx.cluster.pools.has(pool)) {
    throw new PveError(403, `Permission check failed (pool '${pool}' does not exist)`);
  }
}

/** pve-cluster check_vmid_unused's refusal, when the id is taken. */
function vmidInUse(ctx: RouteContext, vmid: number): string | undefined {
  const existing = ctx.cluster.guest(vmid);
  return existing ? alreadyExists(existing) : undefined;
}

/** The load a new VM starts with. */
const NEW_VM_LOAD = { cpuLoad: 0.02, memFraction: 0.35 };

/** What every new or cloned VM config gets: meta, smbios1 uuid, vmgenid, pinned machine for Windows. */
function finishNewConfig(config: GuestConfig, now: number): void {
  config.meta = `creation-qemu=9.2.0,ctime=${now}`;
  if (!config.boot) {
    const boot = defaultBoot(config);
    if (boot) config.boot = boot;
  }
  if (!config.smbios1) config.smbios1 = randomSmbiosUuid();
  if (config.vmgenid === undefined || String(config.vmgenid) === '1') config.vmgenid = randomUUID();
  // check_and_pin_machine_string: Windows guests get a pinned machine version on create
  if (/^w/.test(String(config.ostype ?? '')) && !config.machine) config.machine = 'pc-i440fx-9.2+pve1';
  if (config.tags !== undefined) config.tags = uniqueTags(String(config.tags));
}

function createVm(ctx: RouteContext): string {
  // with archive this is a restore (qmrestore, in restore.ts)
  if (ctx.has('archive')) return restoreVm(ctx);
  const node = ctx.node().name;
  const vmid = ctx.vmid();
  const params = configParams(ctx, CREATE_CONTROL);
  const defaultStorage = ctx.str('storage');
  const pool = ctx.str('pool');
  validateSshKeys(params.sshkeys === undefined ? undefined : String(params.sshkeys));
  checkQuorum(ctx);
  checkPool(ctx, pool);
  if (params.cdrom !== undefined) {
    const value = String(params.cdrom);
    params.ide2 = /media=/.test(value) ? value : `${value},media=cdrom`;
    delete params.cdrom;
  }
  checkDriveParams(ctx, params, defaultStorage);
  for (const key of Object.keys(params)) {
    if (/^net\d+$/.test(key)) params[key] = normalizeNet(String(params[key]));
  }
  const inUse = vmidInUse(ctx, vmid);
  if (inUse) throw PveError.internal(`unable to create VM ${vmid} - ${inUse}`);
  // create_and_lock_config: from here on the VM exists, locked until the worker wrote its config
  const guest = newGuest('qemu', vmid, node, 'create', NEW_VM_LOAD);
  ctx.cluster.addGuest(guest);
  const start = ctx.bool('start');
  return ctx.tasks.start({
    node,
    type: 'qmcreate',
    id: String(vmid),
    user: ctx.authUser,
    run: (task) => {
      const template = Boolean(Number(params.template ?? 0));
      const disks: DiskContext = {
        cluster: ctx.cluster,
        node,
        vmid,
        defaultStorage,
        template,
        log: (line) => task.log.push(line),
        allocated: new Map(),
      };
      try {
        const config: GuestConfig = { ...params, ...createDisks(disks, params) };
        delete config.template;
        if (config.cipassword !== undefined) {
          config.cipassword = storeCiPassword(String(config.cipassword), String(config.ostype ?? ''));
        }
        finishNewConfig(config, guest.createdAt);
        guest.config = config;
        guest.template = template;
        guest.diskBytes = bootDiskBytes(config);
        guest.pool = pool;
        guest.lock = undefined;
      } catch (e) {
        ctx.cluster.removeGuest(vmid);
        throw new Error(`unable to create VM ${vmid} - ${e instanceof Error ? e.message : String(e)}`);
      }
      if (start) {
        task.log.push('Execute autostart');
        const failed = startVm(ctx.cluster, guest);
        if (failed) warn(task, failed);
      }
      return undefined;
    },
    abort: () => ctx.cluster.removeGuest(vmid),
  }).upid;
}

function destroyVm(ctx: RouteContext): string {
  ctx.rootOnly('skiplock');
  const guest = guestOf(ctx, 'qemu');
  const vmid = guest.vmid;
  const early = (): string | undefined => {
    if (guest.config.protection) return `can't remove VM ${vmid} - protection mode enabled`;
    if (guest.status === 'running') return `VM ${vmid} is running - destroy failed`;
    return undefined;
  };
  const refused = early();
  if (refused) throw PveError.internal(refused);
  return ctx.tasks.start({
    node: guest.node,
    type: 'qmdestroy',
    id: String(vmid),
    user: ctx.authUser,
    prepare: () => {
      // repeated under the lock: the config may have changed since the request
      const again = early();
      if (again) return again;
      if (!ctx.bool('skiplock') && guest.lock !== 'suspended') {
        const locked = lockError(guest);
        if (locked) return locked;
      }
      guest.lock = 'destroyed';
      return undefined;
    },
    run: (task) => {
      for (const [key, value] of Object.entries(guest.config)) {
        if (!isQemuDriveKey(key) && !/^unused\d+$/.test(key)) continue;
        const volid = parseDrive(String(value)).file;
        const storage = ctx.cluster.storage(volumeStorage(volid) ?? '');
        if (storage?.type === 'lvmthin' && volumeOwner(volid) === vmid) {
          task.log.push(`  Logical volume "${volumeName(volid).replace(/^.*\//, '')}" successfully removed.`);
        }
      }
      if (ctx.bool('purge')) task.log.push(`purging VM ${vmid} from related configurations..`);
      ctx.cluster.removeGuest(vmid);
      return undefined;
    },
  }).upid;
}

/** Every drive with a storage volume (cdrom media included) and the storages they are on. */
function driveVolumes(config: GuestConfig): Array<{ key: string; volid: string; cdrom: boolean }> {
  const out: Array<{ key: string; volid: string; cdrom: boolean }> = [];
  for (const [key, value] of Object.entries(config)) {
    if (!isQemuDriveKey(key)) continue;
    const drive = parseDrive(String(value));
    if (!drive.file || drive.file === 'none' || drive.file === 'cdrom') continue;
    out.push({ key, volid: drive.file, cdrom: isCdrom(drive) && !isCloudinit(drive) });
  }
  return out;
}

function cloneVm(ctx: RouteContext): string {
  const node = ctx.node().name;
  const source = guestOf(ctx, 'qemu');
  const vmid = source.vmid;
  const newid = ctx.int('newid') ?? 0;
  const pool = ctx.str('pool');
  const snapname = ctx.str('snapname');
  const storageId = ctx.str('storage');
  const format = ctx.str('format');
  let target = ctx.str('target');
  if (target === node || target === 'localhost') target = undefined;

  const loadAndCheck = () => {
    checkPool(ctx, pool);
    if (target && !ctx.cluster.node(target)) throw PveError.internal(`no such cluster node '${target}'`);
    let storage: SimStorage | undefined;
    if (storageId) {
      storage = storageConfig(ctx.cluster, storageId);
      const refused = ctx.cluster.storageUnavailable(storage, node);
      if (refused) throw PveError.internal(refused);
      if (!storage.content.includes('images')) {
        throw PveError.params({ storage: `storage '${storageId}' does not support vm images` });
      }
      if (target) {
        const onTarget = ctx.cluster.storageUnavailable(storage, target);
        if (onTarget) throw PveError.internal(onTarget);
        if (!storage.shared) throw PveError.internal(`can't clone to non-shared storage '${storageId}'`);
      }
    }
    checkQuorum(ctx);
    const locked = lockError(source);
    if (locked) throw PveError.internal(locked);
    const snap = snapname ? source.snapshots.get(snapname) : undefined;
    if (snapname && !snap) throw PveError.internal(`snapshot '${snapname}' does not exist`);
    const full = ctx.has('full') ? ctx.bool('full') : !source.template;
    if (storageId && !full) throw PveError.internal("parameter 'storage' not allowed for linked clones");
    if (format && !full) throw PveError.internal("parameter 'format' not allowed for linked clones");
    const oldconf = snap ? snap.config : source.config;
    const drives = driveVolumes(oldconf);
    const sharedvm = drives.every(({ volid }) => ctx.cluster.storage(volumeStorage(volid) ?? '')?.shared);
    if (target && !sharedvm)
      throw PveError.internal(`can't clone VM to node '${target}' (VM uses local storage)`);
    const existing = ctx.cluster.guest(newid);
    if (existing && existing.type === 'qemu' && existing.node === node) {
      throw PveError.internal(`unable to create VM ${newid}: config file already exists`);
    }
    for (const { key, volid, cdrom } of drives) {
      if (cdrom) continue;
      const type = ctx.cluster.storage(volumeStorage(volid) ?? '')?.type;
      const wanted: VolumeFeature = full || key === 'tpmstate0' ? 'copy' : 'clone';
      if (!type || !volumeHasFeature(type, wanted, volid, snapname !== undefined)) {
        const what = `clone feature is not supported for${snapname ? ' a snapshot of' : ''} '${volid}' (${key})`;
        throw PveError.internal(`${wanted === 'copy' ? 'Full' : 'Linked'} ${what}`);
      }
    }
    return { oldconf, full, drives };
  };
  const checked = loadAndCheck();
  const totalBytes = checked.drives
    .filter((d) => !d.cdrom)
    .reduce((sum, d) => sum + parseSize(parseDrive(String(checked.oldconf[d.key])).options.get('size')), 0);
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  let clone: SimGuest | undefined;
  return ctx.tasks.start({
    node,
    type: 'qmclone',
    id: String(vmid),
    user: ctx.authUser,
    ...(checked.full && totalBytes
      ? {
          progress: (pct: number) =>
            `transferred ${gib((totalBytes * pct) / 100)} of ${gib(totalBytes)} (${pct.toFixed(2)}%)`,
        }
      : {}),
    prepare: (task) => {
      try {
        loadAndCheck();
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
      // the temporary config: pmxcfs refuses a vmid that exists anywhere in the cluster
      if (ctx.cluster.guest(newid)) {
        return `close (rename) '/etc/pve/nodes/${node}/qemu-server/${newid}.conf' failed: File exists`;
      }
      clone = newGuest('qemu', newid, node, 'clone', NEW_VM_LOAD);
      ctx.cluster.addGuest(clone);
      task.log.push(`create ${checked.full ? 'full' : 'linked'} clone of VM ${vmid} with ID ${newid}`);
      for (const { key, volid, cdrom } of checked.drives) {
        if (!cdrom)
          task.log.push(`create ${checked.full ? 'full' : 'linked'} clone of drive ${key} (${volid})`);
      }
      return undefined;
    },
    run: (task) => {
      const made = clone;
      if (!made) return 'clone failed: no target config';
      try {
        made.config = cloneConfig(ctx, task, source, made, checked.oldconf, checked.full, storageId, format);
      } catch (e) {
        ctx.cluster.removeGuest(newid);
        return `clone failed: ${e instanceof Error ? e.message : String(e)}`;
      }
      made.diskBytes = bootDiskBytes(made.config);
      made.pool = pool;
      made.lock = undefined;
      if (target) ctx.cluster.moveGuest(made, target);
      return undefined;
    },
    abort: () => {
      if (clone) ctx.cluster.removeGuest(newid);
    },
  }).upid;
}

/** The new VM's config: new MACs, smbios uuid and vmgenid, cloned or linked volumes, no snapshot state. */
function cloneConfig(
  ctx: RouteContext,
  task: SimTask,
  source: SimGuest,
  clone: SimGuest,
  oldconf: GuestConfig,
  full: boolean,
  storageId: string | undefined,
  format: string | undefined,
): GuestConfig {
  const config: GuestConfig = {};
  const allocated: string[] = [];
  for (const [key, value] of Object.entries(oldconf)) {
    if (['runningcpu', 'runningmachine', 'running-nets-host-mtu', 'vmstate'].includes(key)) continue;
    if (/^unused\d+$/.test(key)) continue;
    if (/^net\d+$/.test(key)) {
      config[key] = normalizeNet(String(value), true);
      continue;
    }
    if (!isQemuDriveKey(key)) {
      config[key] = value;
      continue;
    }
    const drive = parseDrive(String(value));
    const srcStorage = ctx.cluster.storage(volumeStorage(drive.file) ?? '');
    if (!srcStorage || (isCdrom(drive) && !isCloudinit(drive))) {
      config[key] = value;
      continue;
    }
    const toId = full ? (storageId ?? srcStorage.storage) : srcStorage.storage;
    const to = usableStorage({ cluster: ctx.cluster, node: clone.node }, toId);
    const used = new Set(
      [...ctx.cluster.volumeIds(clone.node, to), ...allocated].map((v) => volumeName(v).replace(/^.*\//, '')),
    );
    let index = 0;
    let newVolid: string;
    for (;;) {
      const fmt = isFileStorage(to.type)
        ? (format ??
          (isFileStorage(srcStorage.type) ? volumeFormat(drive.file, srcStorage.type, 'qemu') : 'raw'))
        : undefined;
      newVolid = isCloudinit(drive)
        ? newVolumeName(to, clone.vmid, 0, {
            kind: 'cloudinit',
            format: fmt ?? (isFileStorage(to.type) ? 'qcow2' : undefined),
          })
        : newVolumeName(to, clone.vmid, index, { format: fmt });
      if (!used.has(volumeName(newVolid).replace(/^.*\//, '')) || isCloudinit(drive)) break;
      index++;
    }
    if (!full && !isCloudinit(drive)) {
      // a linked clone's volume names its base: local-lvm:base-9000-disk-0/vm-120-disk-0
      newVolid = `${to.storage}:${volumeName(drive.file)}/${volumeName(newVolid)}`;
    } else if (!isCloudinit(drive) && source.status === 'running') {
      task.log.push(`drive mirror is starting for drive-${key}`);
    }
    allocated.push(newVolid);
    drive.file = newVolid;
    config[key] = formatDrive(drive);
  }
  if (oldconf.vmgenid !== undefined) config.vmgenid = randomUUID();
  config.smbios1 = randomSmbiosUuid();
  config.name = ctx.str('name') ?? `Copy-of-VM-${String(oldconf.name ?? source.vmid)}`;
  const description = ctx.str('description');
  if (description) config.description = description;
  return config;
}

function makeTemplate(ctx: RouteContext): string {
  const guest = guestOf(ctx, 'qemu');
  const disk = ctx.str('disk');
  const check = (): string | undefined => {
    const locked = lockError(guest);
    if (locked) return locked;
    if (guest.snapshots.size) return 'unable to create template, because VM contains snapshots';
    if (guest.template && !disk) return "you can't convert a template to a template";
    if (guest.status === 'running') return "you can't convert a VM to template if VM is running";
    return undefined;
  };
  const refused = check();
  if (refused) throw PveError.internal(refused);
  return ctx.tasks.start({
    node: guest.node,
    type: 'qmtemplate',
    id: String(guest.vmid),
    user: ctx.authUser,
    prepare: check,
    run: () => {
      guest.template = true;
      // template_create: each disk becomes a base volume (vm-100-disk-0 → base-100-disk-0)
      for (const { key, volid, cdrom } of driveVolumes(guest.config)) {
        if (cdrom || (disk && key !== disk) || volumeOwner(volid) !== guest.vmid) continue;
        const storage = ctx.cluster.storage(volumeStorage(volid) ?? '');
        if (!storage || !volumeHasFeature(storage.type, 'template', volid, false)) {
          return `template feature is not available for '${volid}'`;
        }
        const drive = parseDrive(String(guest.config[key]));
        drive.file = volid.replace(/(^|[:/])vm-(\d+-disk-\d+)/g, '$1base-$2');
        guest.config[key] = formatDrive(drive);
      }
      return undefined;
    },
  }).upid;
}

/** GET …/feature: whether every disk's storage offers the feature, and the nodes the VM's storages reach. */
function feature(ctx: RouteContext): unknown {
  const guest = guestOf(ctx, 'qemu');
  const name = ctx.str('feature') as VolumeFeature;
  const snapname = ctx.str('snapname');
  let conf = guest.config;
  if (snapname) {
    const snap = guest.snapshots.get(snapname);
    if (!snap) throw PveError.internal(`snapshot '${snapname}' does not exist`);
    conf = snap.config;
  }
  let has = true;
  let nodes = ctx.cluster.nodes().map((n) => n.name);
  for (const { volid, cdrom } of driveVolumes(conf)) {
    const storage = ctx.cluster.storage(volumeStorage(volid) ?? '');
    if (!storage) continue;
    if (!cdrom && !volumeHasFeature(storage.type, name, volid, snapname !== undefined)) has = false;
    if (storage.disabled) nodes = [];
    else if (storage.nodes) nodes = nodes.filter((n) => storage.nodes!.includes(n));
    else if (!storage.shared) nodes = nodes.filter((n) => n === guest.node);
  }
  return { hasFeature: has ? 1 : 0, nodes };
}
