import { randomUUID } from 'node:crypto';
import type { BackupArchive, GuestConfig, GuestType, SimGuest, SimStorage } from '../cluster-model.js';
import {
  configVolumes,
  formatDrive,
  formatSize,
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
import type { RouteContext, Router } from '../router.js';
import { warn, type SimTask } from '../tasks.js';
import { lockError, startVm } from './power.js';
import { checkEnabled, contentDir, findVolume, requireStorage, volumeType } from './storage-content.js';

/**
 * Backups after pve-manager API2/VZDump.pm + PVE/VZDump.pm (`vzdump` tasks that write `vzdump-<type>-<vmid>-<time>`
 * archives holding the guest's config) and restores after qemu-server create_vm with `archive` (`qmrestore`) and
 * pve-container create_vm with `restore=1` (`vzrestore`), which recreate the guest from that config with new disks.
 */
export function registerBackupRoutes(router: Router): void {
  router.post('/nodes/{node}/vzdump', vzdump);
  // restores share PVE's create endpoints: qemu-lifecycle.ts and lxc-lifecycle.ts call restoreVm / restoreContainer
}

// ------------------------------------------------------------------------------------------------ vzdump

/** The options vzdump refuses from anyone but root@pam (API2/VZDump.pm). */
const ROOT_ONLY = ['maxfiles', 'prune-backups', 'tmpdir', 'dumpdir', 'script', 'bwlimit', 'ionice'];

/** Archive extension per compressor (PVE::VZDump compressor_info) and the share of the data that remains. */
const COMPRESSION: Record<string, { ext: string; ratio: number }> = {
  '0': { ext: '', ratio: 0.62 },
  '1': { ext: '.lzo', ratio: 0.3 },
  lzo: { ext: '.lzo', ratio: 0.3 },
  gzip: { ext: '.gz', ratio: 0.22 },
  zstd: { ext: '.zst', ratio: 0.18 },
};

/** vzdump's archive name time stamp: YYYY_MM_DD-HH_MM_SS (the node's local time; the simulator's is UTC). */
export function archiveTimestamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}-${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

const logTime = (epoch: number) => new Date(epoch * 1000).toISOString().replace('T', ' ').slice(0, 19);
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/** PVE::VZDump::verify_vzdump_parameters and the API's own checks, all synchronous 400s. */
function checkVzdumpParams(ctx: RouteContext): void {
  for (const key of ROOT_ONLY) {
    if (ctx.has(key) && ctx.authUser !== 'root@pam')
      throw PveError.params({ [key]: 'Only root may set this option.' });
  }
  if (ctx.bool('stdout'))
    throw PveError.params({ stdout: 'option is only allowed on the command line interface.' });
  if (ctx.bool('all') && ctx.has('vmid'))
    throw PveError.params({ all: "option conflicts with option 'vmid'" });
  if (ctx.has('exclude') && !ctx.bool('all')) {
    throw PveError.params({ exclude: "option only makes sense in combination with option 'all'" });
  }
  if (!ctx.bool('all') && !ctx.bool('stop') && !ctx.has('pool') && !ctx.has('vmid')) {
    throw PveError.params({ vmid: 'property is missing and it is not optional' });
  }
}

/** get_included_guests: the requested vmids on this node, plus ids no node has (they fail visibly later). */
function localGuests(ctx: RouteContext, node: string): number[] {
  let vmids: number[];
  if (ctx.bool('all')) {
    const excluded = new Set(
      (ctx.str('exclude') ?? '')
        .split(/[,;\s]+/)
        .filter(Boolean)
        .map(Number),
    );
    vmids = ctx.cluster
      .guestsOn(node)
      .map((g) => g.vmid)
      .filter((id) => !excluded.has(id));
  } else if (ctx.has('pool')) {
    vmids = [...ctx.cluster.guests()].filter((g) => g.pool === ctx.str('pool')).map((g) => g.vmid);
  } else {
    vmids = [
      ...new Set(
        (ctx.str('vmid') ?? '')
          .split(/[,;\s]+/)
          .filter(Boolean)
          .map(Number),
      ),
    ];
  }
  // a guest on another node is that node's business: vzdump skips it
  return vmids.sort((a, b) => a - b).filter((vmid) => (ctx.cluster.guest(vmid)?.node ?? node) === node);
}

/** VZDump::storage_info: only directory-like storages with `backup` content take archives. */
function backupStorageError(ctx: RouteContext, id: string, node: string): string | undefined {
  const storage = ctx.cluster.storage(id);
  const why = !storage
    ? `storage '${id}' does not exist`
    : (ctx.cluster.storageUnavailable(storage, node) ??
      (!isFileStorage(storage.type)
        ? `can't use storage type '${storage.type}' for backup`
        : !storage.content.includes('backup')
          ? `can't use storage '${id}' for backups - wrong content type`
          : undefined));
  return why ? `could not get storage information for '${id}': ${why}` : undefined;
}

/** notes-template variables ({{cluster}}, {{guestname}}, {{node}}, {{vmid}}); `\n` in the template is a newline. */
function renderNotes(template: string, vars: Record<string, string>): string {
  return template
    .replace(/\{\{(cluster|guestname|node|vmid)\}\}/g, (_m, name: string) => vars[name] ?? '')
    .replace(/\\n/g, '\n')
    .replace(/\\\\/g, '\\');
}

interface PlannedBackup {
  vmid: number;
  guest?: SimGuest;
  /** Why this guest's backup fails (missing, locked); set before the task runs. */
  error?: string;
  volid: string;
  path: string;
  bytes: number;
}

/**
 * POST /nodes/{node}/vzdump. Runs for the listed guests on this node (a guest on another node is skipped, and a
 * call naming only such guests returns "OK" without a task, as PVE's API does). The task holds the `backup` lock
 * on each guest and, when it ends, adds `<storage>:backup/vzdump-<qemu|lxc>-<vmid>-<time>.<vma|tar>[.zst|.gz|.lzo]`
 * with the guest's config, notes and protection. One failing guest fails the job ("job errors"), the others are
 * still written.
 */
function vzdump(ctx: RouteContext): string {
  const node = ctx.node().name;
  checkVzdumpParams(ctx);
  const local = localGuests(ctx, node);
  // "silent exit if specified VMs run on other nodes"
  if (!local.length && !ctx.bool('all')) return 'OK';

  const storageId = ctx.str('storage') ?? 'local';
  const mode = ctx.str('mode') ?? 'snapshot';
  const compress = COMPRESSION[ctx.str('compress') ?? '0'] ?? COMPRESSION['0'];
  const start = Math.floor(Date.now() / 1000);
  const storageError = backupStorageError(ctx, storageId, node);
  const storage = ctx.cluster.storage(storageId);
  const taken = new Set(storage && !storageError ? ctx.cluster.volumeIds(node, storage) : []);

  const planned: PlannedBackup[] = local.map((vmid) => {
    const guest = ctx.cluster.guest(vmid);
    const type: GuestType = guest?.type ?? 'qemu';
    const base = type === 'qemu' ? 'vma' : 'tar';
    // two backups of one guest within a second would get the same name: the simulator moves the later one on
    let stamp = start;
    let volid = '';
    do {
      volid = `${storageId}:backup/vzdump-${type}-${vmid}-${archiveTimestamp(stamp++)}.${base}${compress.ext}`;
    } while (taken.has(volid));
    taken.add(volid);
    const raw = guest ? guestDataBytes(guest) : 0;
    return {
      vmid,
      guest,
      volid,
      path: storage ? `${contentDir(storage, 'backup')}/${volid.slice(volid.indexOf('/') + 1)}` : '',
      bytes: Math.max(1024 * 1024, Math.round(raw * compress.ratio)),
      error: !guest ? `unable to find configuration file for VM ${vmid} on node '${node}'` : lockError(guest),
    };
  });

  const log = [
    `INFO: starting new backup job: vzdump ${local.join(' ')} --storage ${storageId} --mode ${mode}${ctx.has('compress') ? ` --compress ${ctx.str('compress')}` : ''}`,
  ];
  if (!storageError) {
    for (const b of planned) log.push(...startLines(b, mode, start));
  }
  const single =
    planned.length === 1 && planned[0].guest?.type === 'qemu' && !planned[0].error && !storageError;
  const total = single ? guestDataBytes(planned[0].guest!) : 0;
  const locked: SimGuest[] = [];

  return ctx.tasks.start({
    node,
    type: 'vzdump',
    id: local.length === 1 ? String(local[0]) : '',
    user: ctx.authUser,
    log,
    // qemu backups report their progress; container (tar) backups do not
    ...(single
      ? {
          progress: (pct: number) =>
            `INFO: ${String(pct).padStart(3)}% (${gib((total * pct) / 100)} of ${gib(total)}) in ${Math.max(1, pct / 25)}s, read: 1.4 GiB/s, write: 410.2 MiB/s`,
        }
      : {}),
    prepare: () => {
      if (storageError) return storageError;
      for (const b of planned) {
        if (b.error || !b.guest) continue;
        b.guest.lock = 'backup';
        locked.push(b.guest);
      }
      return undefined;
    },
    run: (task) => {
      for (const guest of locked) if (guest.lock === 'backup') guest.lock = undefined;
      let failed = 0;
      for (const b of planned) {
        if (b.error || !b.guest || !storage) {
          task.log.push(`ERROR: Backup of VM ${b.vmid} failed - ${b.error ?? 'no guest'}`);
          failed++;
          continue;
        }
        writeArchive(ctx, task, node, storage, b, start);
      }
      if (failed) {
        task.log.push('INFO: Backup job finished with errors');
        return 'job errors';
      }
      task.log.push('INFO: Backup job finished successfully');
      return undefined;
    },
    abort: () => {
      for (const guest of locked) if (guest.lock === 'backup') guest.lock = undefined;
    },
  }).upid;
}

/** Bytes a backup reads: a VM's disks (cdroms excluded), a container's used file system. */
function guestDataBytes(guest: SimGuest): number {
  const disks = configVolumes(guest.type, guest.config).filter((v) => !v.cdrom);
  const size = disks.reduce((sum, v) => sum + v.size, 0) || guest.diskBytes;
  return guest.type === 'qemu' ? size : Math.round(size * 0.35);
}

function startLines(b: PlannedBackup, mode: string, start: number): string[] {
  const guest = b.guest;
  if (!guest || b.error) return [];
  const lines = [
    `INFO: Starting Backup of VM ${b.vmid} (${guest.type})`,
    `INFO: Backup started at ${logTime(start)}`,
    `INFO: status = ${guest.status}`,
  ];
  if (guest.type === 'qemu') {
    lines.push(`INFO: VM Name: ${String(guest.config.name ?? `VM ${b.vmid}`)}`);
    for (const ref of configVolumes('qemu', guest.config)) {
      if (!ref.cdrom) lines.push(`INFO: include disk '${ref.key}' '${ref.volid}' ${formatSize(ref.size)}`);
    }
  } else {
    lines.push(`INFO: CT Name: ${String(guest.config.hostname ?? `CT${b.vmid}`)}`);
    for (const ref of configVolumes('lxc', guest.config)) {
      lines.push(`INFO: including mount point ${ref.key} ('/') in backup`);
    }
  }
  lines.push(`INFO: backup mode: ${mode}`, 'INFO: ionice priority: 7');
  if (guest.status === 'running' && mode === 'stop') lines.push('INFO: stopping virtual guest');
  if (guest.status === 'running' && mode === 'suspend') lines.push('INFO: suspending guest');
  lines.push(`INFO: creating vzdump archive '${b.path}'`);
  return lines;
}

function writeArchive(
  ctx: RouteContext,
  task: SimTask,
  node: string,
  storage: SimStorage,
  b: PlannedBackup,
  start: number,
): void {
  const guest = b.guest!;
  const { lock: _lock, ...config } = guest.config;
  const notesTemplate = ctx.str('notes-template');
  const notes =
    notesTemplate === undefined
      ? undefined
      : renderNotes(notesTemplate, {
          cluster: ctx.cluster.clusterName,
          guestname: String(
            guest.type === 'qemu'
              ? (guest.config.name ?? `VM ${guest.vmid}`)
              : (guest.config.hostname ?? `CT${guest.vmid}`),
          ),
          node,
          vmid: String(guest.vmid),
        });
  const archive: BackupArchive = { type: guest.type, config: { ...config }, template: guest.template };
  ctx.cluster.addVolume(node, storage, {
    volid: b.volid,
    content: 'backup',
    format: b.volid.replace(/^.*?\.((?:vma|tar)(?:\.\w+)?)$/, '$1'),
    size: b.bytes,
    ctime: start,
    vmid: guest.vmid,
    subtype: guest.type,
    ...(notes !== undefined && notes !== '' ? { notes } : {}),
    ...(ctx.bool('protected') ? { protected: 1 } : {}),
    backup: archive,
  });
  if (guest.status === 'running' && ctx.str('mode') === 'stop') task.log.push('INFO: restarting vm');
  if (guest.status === 'running' && ctx.str('mode') === 'suspend') task.log.push('INFO: resuming vm');
  task.log.push(`INFO: archive file size: ${(b.bytes / 1e9).toFixed(2)}GB`);
  if (notes) task.log.push('INFO: adding notes to backup');
  if (ctx.bool('protected')) task.log.push('INFO: marking backup as protected');
  const seconds = Math.max(1, Math.floor(Date.now() / 1000) - start);
  const duration = new Date(seconds * 1000).toISOString().slice(11, 19);
  task.log.push(
    `INFO: Finished Backup of VM ${guest.vmid} (${duration})`,
    `INFO: Backup finished at ${logTime(start + seconds)}`,
  );
}

// ------------------------------------------------------------------------------------------------ restore

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

/** pve-cluster check_vmid_unused's text. */
const alreadyExists = (guest: SimGuest) =>
  `${guest.type === 'qemu' ? 'VM' : 'CT'} ${guest.vmid} already exists on node '${guest.node}'`;

function emptyGuest(type: GuestType, vmid: number, node: string): SimGuest {
  return {
    type,
    vmid,
    node,
    status: 'stopped',
    paused: false,
    config: {},
    startedAt: 0,
    pid: 0,
    lock: 'create',
    template: false,
    cpuLoad: 0.02,
    memFraction: 0.35,
    counters: { diskread: 0, diskwrite: 0, netin: 0, netout: 0 },
    diskBytes: 0,
    createdAt: Math.floor(Date.now() / 1000),
    snapshots: new Map(),
    ...(type === 'qemu' ? { agentAvailable: true } : {}),
  };
}

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
  const guest = existing ?? emptyGuest('qemu', vmid, node);
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
      created = emptyGuest('lxc', vmid, node);
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
