import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { GuestConfig, SimGuest, SimStorage } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import {
  formatDrive,
  formatSize,
  GiB,
  isCdrom,
  isCloudinit,
  isFileStorage,
  isQemuDriveKey,
  newDiskRequest,
  newVolumeName,
  parseDrive,
  parseSize,
  volumeName,
  volumeOwner,
  volumeStorage,
} from './guest-volumes.js';
import { PveError } from './pve-error.js';
import type { RouteContext } from './router.js';

/**
 * qemu-server's config handling, restated for the simulator: drive checks before a worker starts, disk allocation
 * (create_disks), the `[PENDING]` section with hot-plug while the VM runs (vmconfig_hotplug_pending) and full
 * application when it does not (vmconfig_apply_pending), and the values GET config / GET pending return.
 */

/** Options a running VM takes at once (QemuServer $fast_plug_option) plus the cloud-init ones. */
const FAST_PLUG = new Set([
  'description',
  'hookscript',
  'lock',
  'migrate_downtime',
  'migrate_speed',
  'name',
  'onboot',
  'protection',
  'shares',
  'startup',
  'tags',
  'vmstatestorage',
  // cloud-init options are written at once; the drive is regenerated at the next start
  'cicustom',
  'cipassword',
  'citype',
  'ciupgrade',
  'ciuser',
  'nameserver',
  'searchdomain',
  'sshkeys',
]);

/** Options stored outside `config` on the SimGuest. */
const GUEST_FIELDS = new Set(['lock', 'template']);

export const MASKED_PASSWORD = '**********';

/** Values typed as integers/numbers/booleans in the schema are stored as numbers, as PVE's JSON shows them. */
export function coerceValue(ctx: RouteContext, key: string, value: unknown): string | number {
  const type = ctx.paramSchema(key)?.type;
  if (type === 'integer' || type === 'number') return Number(value);
  if (type === 'boolean') return value === true || value === 1 || value === '1' ? 1 : 0;
  return typeof value === 'string' ? value : String(value);
}

/** `ctx.params` minus path and control parameters, coerced: the options to write. */
export function configParams(ctx: RouteContext, exclude: readonly string[]): GuestConfig {
  const out: GuestConfig = {};
  const skip = new Set(['node', 'vmid', ...exclude]);
  for (const [key, value] of Object.entries(ctx.params)) {
    if (skip.has(key) || value === undefined || value === null) continue;
    out[key] = coerceValue(ctx, key, Array.isArray(value) ? value.join(',') : value);
  }
  return out;
}

/** PVE::Tools::validate_ssh_public_keys on the URL-decoded `sshkeys`: every line must be a public key. */
export function validateSshKeys(encoded: string | undefined): void {
  if (encoded === undefined) return;
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    throw PveError.internal('SSH public key validation error');
  }
  const key =
    /^(?:\S+\s+)?(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+[A-Za-z0-9+/]+={0,3}(?:\s.*)?$/;
  for (const line of text.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    if (!key.test(line.trim())) throw PveError.internal('SSH public key validation error');
  }
}

/** GuestHelpers::get_unique_tags: split on `,; `, drop duplicates, join with `;`. */
export function uniqueTags(tags: string): string {
  return [...new Set(tags.split(/[,;\s]+/).filter(Boolean))].join(';');
}

/** A MAC from PVE's prefix (datacenter.cfg mac_prefix, default BC:24:11). */
export function randomMac(): string {
  const b = randomBytes(3);
  return ['BC', '24', '11', ...[...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0'))].join(':');
}

const NIC_MODELS = new Set([
  'e1000',
  'e1000-82540em',
  'e1000-82544gc',
  'e1000-82545em',
  'e1000e',
  'i82551',
  'i82557b',
  'i82559er',
  'ne2k_isa',
  'ne2k_pci',
  'pcnet',
  'rtl8139',
  'virtio',
  'vmxnet3',
]);

/** parse_net + print_net: `virtio,bridge=vmbr0` → `virtio=<MAC>,bridge=vmbr0` (add_random_macs / new MAC). */
export function normalizeNet(value: string, newMac = false): string {
  let model = '';
  let mac = '';
  const rest: Array<[string, string]> = [];
  for (const part of value.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const val = eq < 0 ? '' : part.slice(eq + 1);
    if (NIC_MODELS.has(key)) {
      model = key;
      if (val) mac = val;
    } else if (key === 'model') model = val;
    else if (key === 'macaddr') mac = val;
    else rest.push([key, val]);
  }
  if (!mac || newMac) mac = randomMac();
  const bridge = rest.filter(([k]) => k === 'bridge');
  const others = rest.filter(([k]) => k !== 'bridge').sort(([a], [b]) => (a < b ? -1 : 1));
  return [`${model}=${mac.toUpperCase()}`, ...[...bridge, ...others].map(([k, v]) => `${k}=${v}`)].join(',');
}

export function randomSmbiosUuid(): string {
  return `uuid=${randomUUID()}`;
}

/** A cipassword as qemu-server stores it for Linux guests: crypt()ed (Windows guests keep the plain text). */
export function storeCiPassword(password: string, ostype: string | undefined): string {
  if (/^w/.test(ostype ?? '')) return password;
  if (/^\$(?:[156]|2[ay])(\$.+){2}/.test(password)) return password;
  const salt = randomBytes(6).toString('base64').replace(/[+/=]/g, '.');
  const hash = createHash('sha512').update(`${salt}${password}`).digest('base64').replace(/[+/=]/g, '.');
  return `$5$${salt}$${hash.slice(0, 43)}`;
}

// ------------------------------------------------------------------ drives before the worker

/**
 * $check_drive_param and $check_storage_access (synchronous, before any worker): ISO without media=cdrom → 400;
 * a new disk on a storage that does not exist → 500, without `images` content → 400 on `storage`; an existing
 * volume whose content is not images/iso → 400 on the drive key.
 */
export function checkDriveParams(ctx: RouteContext, params: GuestConfig, defaultStorage?: string): void {
  const { cluster } = ctx;
  for (const key of Object.keys(params).sort()) {
    if (!isQemuDriveKey(key)) continue;
    const drive = parseDrive(String(params[key]));
    const volid = drive.file;
    if (!volid || volid === 'none' || volid === 'cdrom') continue;
    const storeId = volumeStorage(volid);
    const isNew = newDiskRequest(volid);
    if (storeId && volumeName(volid).startsWith('iso/') && !isCdrom(drive)) {
      throw PveError.params({ [key]: "explicit 'media=cdrom' is required for iso images" });
    }
    if (isNew && !isCdrom(drive)) {
      const id = isNew.storage ?? defaultStorage;
      if (!id) throw PveError.internal('no storage ID specified (and no default storage)');
      const storage = storageConfig(cluster, id);
      if (!storage.content.includes('images')) {
        throw PveError.params({ storage: `storage '${id}' does not support vm images` });
      }
    } else if (isCloudinit(drive) && volumeName(volid) === 'cloudinit') {
      storageConfig(cluster, storeId ?? defaultStorage ?? '');
    } else if (storeId) {
      storageConfig(cluster, storeId);
      const vtype = volumeName(volid).split('/')[0];
      const images = volumeOwner(volid) !== undefined;
      if (!images && vtype !== 'iso') {
        throw PveError.params({ [key]: "content type needs to be 'images' or 'iso'" });
      }
    }
  }
}

/** PVE::Storage::storage_config: the storage, or 500 "storage 'x' does not exist". */
export function storageConfig(cluster: ClusterState, id: string): SimStorage {
  if (!id) throw PveError.internal('no storage ID specified');
  const storage = cluster.storage(id);
  if (!storage) throw PveError.internal(`storage '${id}' does not exist`);
  return storage;
}

// ------------------------------------------------------------------ disk allocation (in the worker)

export interface DiskContext {
  cluster: ClusterState;
  node: string;
  vmid: number;
  /** `storage` parameter: where `:SIZE` disks go. */
  defaultStorage?: string;
  /** Creating a template: new disks become base volumes. */
  template?: boolean;
  log: (line: string) => void;
  /** Volumes allocated so far in this task, with their size (the next disk takes the next free name). */
  allocated: Map<string, number>;
}

/** vdisk_alloc's space checks where PVE has them: thick LVM and non-sparse ZFS; thin pools and files overcommit. */
function checkSpace(ctx: DiskContext, storage: SimStorage, name: string, bytes: number): void {
  const { avail } = ctx.cluster.usage(ctx.node, storage);
  let already = 0;
  for (const [volid, size] of ctx.allocated) if (volumeStorage(volid) === storage.storage) already += size;
  const free = avail - already;
  if (bytes <= free) return;
  const volname = volumeName(name);
  if (storage.type === 'lvm') {
    const vg = String(storage.options.vgname ?? 'pve');
    const extents = (n: number) => Math.max(0, Math.floor(n / (4 * 1024 * 1024)));
    throw new Error(
      `lvcreate '${vg}/${volname}' error:   Volume group "${vg}" has insufficient free space (${extents(free)} extents): ${extents(bytes)} required.`,
    );
  }
  if (storage.type === 'zfspool' && !storage.sparse) {
    const pool = String(storage.options.pool ?? 'rpool/data');
    throw new Error(`zfs error: cannot create '${pool}/${volname}': out of space`);
  }
}

/** `nas:150/vm-150-disk-0.qcow2`, `local-lvm:base-150-disk-0` → `vm-150-disk-0` (find_free_diskname's view). */
function diskStem(volid: string): string {
  return volumeName(volid)
    .replace(/^.*\//, '')
    .replace(/\.(raw|qcow2|vmdk)$/, '')
    .replace(/^base-/, 'vm-');
}

/** The next free `vm-<vmid>-disk-<n>` on a storage as seen from the node. */
function nextVolume(
  ctx: DiskContext,
  storage: SimStorage,
  options: { format?: string; kind?: 'disk' | 'cloudinit' },
): string {
  // names are per storage: find_free_diskname looks at this storage's volumes only
  const mine = [...ctx.allocated.keys()].filter((v) => volumeStorage(v) === storage.storage);
  const taken = new Set([...ctx.cluster.volumeIds(ctx.node, storage), ...mine].map(diskStem));
  for (let i = 0; ; i++) {
    const volid = newVolumeName(storage, ctx.vmid, i, { ...options, base: ctx.template });
    if (!taken.has(diskStem(volid))) return volid;
    if (options.kind === 'cloudinit') throw new Error(`volume '${volid}' already exists`);
  }
}

/**
 * create_disks: allocates `STORAGE:SIZE` disks and cloud-init drives, sizes existing volumes, and returns the
 * drive strings to write (`local-lvm:vm-150-disk-0,iothread=1,size=32G`). Throws the storage's error text.
 */
export function createDisks(ctx: DiskContext, settings: GuestConfig): GuestConfig {
  const out: GuestConfig = {};
  for (const key of Object.keys(settings).sort()) {
    if (!isQemuDriveKey(key)) continue;
    const drive = parseDrive(String(settings[key]));
    const volid = drive.file;
    const storeId = volumeStorage(volid);
    const isNew = newDiskRequest(volid);
    if (!volid || volid === 'none' || volid === 'cdrom') {
      drive.options.delete('size');
      out[key] = formatDrive(drive);
    } else if (isCloudinit(drive) && volumeName(volid) === 'cloudinit') {
      const storage = usableStorage(ctx, storeId ?? ctx.defaultStorage ?? '');
      const format = isFileStorage(storage.type) ? (drive.options.get('format') ?? 'qcow2') : undefined;
      const newVolid = nextVolume(ctx, storage, { format, kind: 'cloudinit' });
      allocate(ctx, newVolid, 4 * 1024 * 1024);
      drive.file = newVolid;
      drive.options.set('media', 'cdrom');
      drive.options.delete('format');
      out[key] = formatDrive(drive);
      ctx.log(`${key}: successfully created disk '${out[key]}'`);
    } else if (isNew && !isCdrom(drive)) {
      const storage = usableStorage(ctx, isNew.storage ?? ctx.defaultStorage ?? '');
      const bytes = Math.round(isNew.sizeGiB * GiB);
      const format = isFileStorage(storage.type) ? (drive.options.get('format') ?? 'raw') : undefined;
      const newVolid = nextVolume(ctx, storage, { format });
      checkSpace(ctx, storage, newVolid, bytes);
      allocate(ctx, newVolid, bytes);
      drive.file = newVolid;
      drive.options.delete('format');
      drive.options.delete('import-from');
      drive.options.set('size', formatSize(bytes));
      out[key] = formatDrive(drive);
      ctx.log(`${key}: successfully created disk '${out[key]}'`);
    } else {
      const storage = storeId ? storageConfig(ctx.cluster, storeId) : undefined;
      let size = 0;
      if (storage) {
        const found = ctx.cluster.volumes(ctx.node, storage).find((v) => v.volid === volid);
        if (!found) throw new Error(`volume ${volid} does not exist`);
        size = found.size;
      }
      drive.options.delete('format');
      if (size) drive.options.set('size', formatSize(size));
      out[key] = formatDrive(drive);
    }
  }
  return out;
}

function allocate(ctx: DiskContext, volid: string, bytes: number): void {
  ctx.allocated.set(volid, bytes);
}

/** The storage as vdisk_alloc sees it on this node: exists, enabled, available here. */
export function usableStorage(ctx: { cluster: ClusterState; node: string }, id: string): SimStorage {
  const storage = storageConfig(ctx.cluster, id);
  const refused = ctx.cluster.storageUnavailable(storage, ctx.node);
  if (refused) throw new Error(refused);
  return storage;
}

// ------------------------------------------------------------------ pending and hot-plug

/** get_default_bootdevices: the first disk, every cdrom, every NIC (`order=scsi0;ide2;net0`). */
export function defaultBoot(config: GuestConfig): string {
  const keys = Object.keys(config);
  const order = (k: string) => {
    const m = /^(ide|sata|scsi|virtio|net)(\d+)$/.exec(k);
    const rank = { ide: 0, sata: 1, scsi: 2, virtio: 3, net: 4 }[m?.[1] ?? 'net'] ?? 5;
    return rank * 100 + Number(m?.[2] ?? 0);
  };
  const drives = keys
    .filter((k) => /^(ide|sata|scsi|virtio)\d+$/.test(k))
    .sort((a, b) => order(a) - order(b));
  const disks = drives.filter((k) => !isCdrom(parseDrive(String(config[k]))));
  const cdroms = drives.filter(
    (k) => isCdrom(parseDrive(String(config[k]))) && !isCloudinit(parseDrive(String(config[k]))),
  );
  const nets = keys.filter((k) => /^net\d+$/.test(k)).sort((a, b) => order(a) - order(b));
  const devices = [...disks.slice(0, 1), ...cdroms, ...nets];
  return devices.length ? `order=${devices.join(';')}` : '';
}

/** The boot disk's size (vmstatus `maxdisk`): the first disk of the boot order, else the first disk. */
export function bootDiskBytes(config: GuestConfig): number {
  const order = /order=([^,]+)/.exec(String(config.boot ?? ''))?.[1]?.split(';') ?? [];
  const candidates = [
    ...order,
    ...Object.keys(config)
      .filter((k) => /^(scsi|virtio|sata|ide)\d+$/.test(k))
      .sort(),
  ];
  for (const key of candidates) {
    const value = config[key];
    if (value === undefined || !isQemuDriveKey(key)) continue;
    const drive = parseDrive(String(value));
    if (isCdrom(drive) || !volumeStorage(drive.file)) continue;
    return parseSize(drive.options.get('size'));
  }
  return 0;
}

/** The config GET returns: current values with pending changes applied unless `current`. */
export function effectiveConfig(guest: SimGuest, current: boolean): GuestConfig {
  const config: GuestConfig = { ...guest.config };
  if (!current) {
    Object.assign(config, guest.pending ?? {});
    for (const key of guest.pendingDelete?.keys() ?? []) delete config[key];
  }
  return config;
}

/** GuestHelpers::config_with_pending_array. */
export function pendingItems(cluster: ClusterState, guest: SimGuest): Array<Record<string, unknown>> {
  const conf: GuestConfig = {
    ...guest.config,
    ...(guest.lock ? { lock: guest.lock } : {}),
    ...(guest.parent ? { parent: guest.parent } : {}),
    ...(guest.template ? { template: 1 } : {}),
    digest: cluster.digest(guest),
  };
  if (conf.cipassword !== undefined) conf.cipassword = MASKED_PASSWORD;
  const pending: GuestConfig = { ...(guest.pending ?? {}) };
  // qemu-server masks the pending one with a trailing space
  if (pending.cipassword !== undefined) pending.cipassword = `${MASKED_PASSWORD} `;
  const deletes = guest.pendingDelete ?? new Map<string, boolean>();
  const items: Array<Record<string, unknown>> = [];
  for (const [key, value] of Object.entries(conf)) {
    items.push({
      key,
      value,
      ...(pending[key] !== undefined ? { pending: pending[key] } : {}),
      ...(deletes.has(key) ? { delete: deletes.get(key) ? 2 : 1 } : {}),
    });
  }
  for (const [key, value] of Object.entries(pending)) {
    if (conf[key] === undefined) items.push({ key, pending: value });
  }
  for (const [key, force] of deletes) {
    if (pending[key] === undefined && conf[key] === undefined) items.push({ key, delete: force ? 2 : 1 });
  }
  return items;
}

function hotplugFeatures(config: GuestConfig): Set<string> {
  const text = String(config.hotplug ?? 'network,disk,usb');
  if (text === '0') return new Set();
  if (text === '1') return new Set(['network', 'disk', 'usb']);
  return new Set(text.split(',').filter(Boolean));
}

/** Whether a running VM takes this change at once (vmconfig_hotplug_pending), else it stays pending. */
function hotpluggable(guest: SimGuest, key: string, newValue: string | number | undefined): boolean {
  if (FAST_PLUG.has(key) || /^ipconfig\d+$/.test(key)) return true;
  if (['balloon', 'cpulimit', 'cpuunits'].includes(key)) return true;
  const features = hotplugFeatures(guest.config);
  if (/^net\d+$/.test(key)) return features.has('network');
  if (/^usb\d+$/.test(key)) return features.has('usb');
  if (key === 'memory') return features.has('memory');
  if (key === 'cores' || key === 'vcpus') return features.has('cpu');
  if (isQemuDriveKey(key)) {
    const oldValue = guest.config[key];
    const oldCdrom = oldValue !== undefined && isCdrom(parseDrive(String(oldValue)));
    const newCdrom = newValue !== undefined && isCdrom(parseDrive(String(newValue)));
    // changing the medium of an existing cdrom drive works on any bus
    if (oldCdrom && (newValue === undefined || newCdrom)) return true;
    if (/^(ide|sata)\d+$/.test(key)) return false;
    return features.has('disk') && !newCdrom;
  }
  return false;
}

/** vmconfig_register_unused_drive: a detached disk of this VM stays as `unusedN`. */
function registerUnused(guest: SimGuest, driveText: string | number | undefined): void {
  if (driveText === undefined) return;
  const drive = parseDrive(String(driveText));
  if (isCdrom(drive) || isCloudinit(drive)) return;
  if (volumeOwner(drive.file) !== guest.vmid) return;
  const used = new Set(Object.values(guest.config).map((v) => parseDrive(String(v)).file));
  if (used.has(drive.file)) return;
  for (let i = 0; i < 256; i++) {
    if (guest.config[`unused${i}`] === undefined) {
      guest.config[`unused${i}`] = drive.file;
      return;
    }
  }
}

/** Applies one pending option (or deletion) to the current config. */
function applyOne(guest: SimGuest, key: string): void {
  const pending = guest.pending ?? {};
  const deletes = guest.pendingDelete ?? new Map<string, boolean>();
  if (deletes.has(key)) {
    const force = deletes.get(key) ?? false;
    const old = guest.config[key];
    delete guest.config[key];
    // a forced delete frees the volume; otherwise a detached disk is kept as unused
    if (isQemuDriveKey(key) && !force) registerUnused(guest, old);
    deletes.delete(key);
    return;
  }
  if (pending[key] === undefined) return;
  const old = guest.config[key];
  guest.config[key] = pending[key];
  delete pending[key];
  if (
    isQemuDriveKey(key) &&
    old !== undefined &&
    parseDrive(String(old)).file !== parseDrive(String(guest.config[key])).file
  ) {
    registerUnused(guest, old);
  }
}

/** vmconfig_apply_pending (VM stopped, or at start/reboot): every pending change takes effect. */
export function applyAllPending(guest: SimGuest): void {
  for (const key of [...(guest.pendingDelete?.keys() ?? []), ...Object.keys(guest.pending ?? {})]) {
    applyOne(guest, key);
  }
  cleanupPending(guest);
}

/** A running VM takes what it can hot-plug; the rest stays pending until the next start. */
export function applyHotplugPending(guest: SimGuest): void {
  for (const key of [...(guest.pendingDelete?.keys() ?? [])]) {
    if (hotpluggable(guest, key, undefined)) applyOne(guest, key);
  }
  for (const [key, value] of Object.entries(guest.pending ?? {})) {
    if (hotpluggable(guest, key, value)) applyOne(guest, key);
  }
  cleanupPending(guest);
}

/** AbstractConfig::cleanup_pending: drop pending values equal to the current ones and deletes of unset options. */
export function cleanupPending(guest: SimGuest): void {
  const pending = guest.pending ?? {};
  for (const [key, value] of Object.entries(pending)) {
    if (guest.config[key] !== undefined && String(guest.config[key]) === String(value)) delete pending[key];
  }
  for (const key of [...(guest.pendingDelete?.keys() ?? [])]) {
    if (guest.config[key] === undefined) guest.pendingDelete?.delete(key);
  }
  if (!Object.keys(pending).length) guest.pending = undefined;
  else guest.pending = pending;
  if (guest.pendingDelete && !guest.pendingDelete.size) guest.pendingDelete = undefined;
}

export interface ConfigUpdate {
  set: GuestConfig;
  delete: string[];
  revert: string[];
  force: boolean;
}

/**
 * The worker part of update_vm (POST) / the locked part of PUT: deletions, then new values into `[PENDING]`, then
 * hot-plug (running) or apply (stopped). Throws PveError/Error with PVE's texts; `log`/`warn` write the task log.
 */
export function updateVmConfig(
  cluster: ClusterState,
  guest: SimGuest,
  update: ConfigUpdate,
  io: { node: string; log: (line: string) => void; warn: (line: string) => void },
): void {
  guest.pending ??= {};
  guest.pendingDelete ??= new Map();
  const pending = guest.pending;
  const deletes = guest.pendingDelete;
  for (const key of update.revert) {
    delete pending[key];
    deletes.delete(key);
  }
  const bootOrder = /order=([^,]+)/.exec(String(guest.config.boot ?? ''))?.[1]?.split(';') ?? [];
  for (const key of update.delete) {
    const value = guest.config[key] ?? pending[key];
    if (value === undefined && !GUEST_FIELDS.has(key)) {
      io.warn(`cannot delete '${key}' - not set in current configuration!`);
      continue;
    }
    delete pending[key];
    if (bootOrder.includes(key) && update.set.boot === undefined) {
      const order = bootOrder.filter((d) => d !== key);
      pending.boot = order.length ? `order=${order.join(';')}` : '';
    }
    if (key === 'lock') guest.lock = undefined;
    else if (key === 'template') guest.template = false;
    else if (/^unused\d+$/.test(key)) {
      if (guest.config.protection) {
        throw PveError.internal(`can't remove unused disk '${value}' - protection mode enabled`);
      }
      delete guest.config[key];
    } else if (isQemuDriveKey(key)) {
      if (guest.config.protection) {
        throw PveError.internal(`can't remove drive '${key}' - protection mode enabled`);
      }
      deletes.set(key, update.force);
    } else if (key === 'tags') {
      delete guest.config[key];
    } else {
      deletes.set(key, update.force);
    }
  }
  const diskCtx: DiskContext = {
    cluster,
    node: io.node,
    vmid: guest.vmid,
    log: io.log,
    allocated: new Map(),
  };
  for (const [key, value] of Object.entries(update.set)) {
    if (pending[key] !== undefined && String(pending[key]) === String(value)) continue;
    if (key === 'lock') guest.lock = String(value);
    else if (key === 'template') guest.template = Boolean(Number(value));
    else if (isQemuDriveKey(key)) {
      Object.assign(pending, createDisks(diskCtx, { [key]: value }));
    } else if (key === 'cipassword') {
      guest.config.cipassword = storeCiPassword(String(value), String(guest.config.ostype ?? ''));
    } else if (key === 'tags') {
      pending.tags = uniqueTags(String(value));
    } else if (key === 'boot') {
      const order = /order=([^,]+)/.exec(String(value))?.[1]?.split(';') ?? [];
      for (const dev of order) {
        const exists = guest.config[dev] ?? pending[dev] ?? update.set[dev];
        if (exists === undefined || update.delete.includes(dev)) {
          throw PveError.internal(`invalid bootorder: device '${dev}' does not exist'`);
        }
      }
      pending.boot = order.length ? `order=${order.join(';')}` : String(value);
    } else {
      pending[key] = value;
    }
    deletes.delete(key);
  }
  cleanupPending(guest);
  if (guest.status === 'running') applyHotplugPending(guest);
  else applyAllPending(guest);
  if (guest.type === 'qemu') guest.diskBytes = bootDiskBytes(guest.config) || guest.diskBytes;
}
