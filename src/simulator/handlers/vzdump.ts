import type { BackupArchive, GuestType, SimGuest, SimStorage } from '../cluster-model.js';
import { configVolumes, formatSize, GiB, isFileStorage } from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import type { SimTask } from '../tasks.js';
import { lockError } from './power.js';
import { contentDir } from './storage-content.js';

/**
 * Backups after pve-manager API2/VZDump.pm + PVE/VZDump.pm: `vzdump` tasks that write `vzdump-<type>-<vmid>-<time>`
 * archives holding the guest's config (restore.ts recreates the guest from them).
 */
export function registerBackupRoutes(router: Router): void {
  router.post('/nodes/{node}/vzdump', vzdump);
  // restores share PVE's create endpoints: qemu-lifecycle.ts and lxc-lifecycle.ts call restoreVm / restoreContainer
}

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
