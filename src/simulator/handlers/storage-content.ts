import type { SimStorage, SimVolume } from '../cluster-model.js';
import { isFileStorage, volumeName, volumeOwner } from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import type { SimTask } from '../tasks.js';

/**
 * A storage's content after pve-storage API2/Storage/Content.pm: the list (content and vmid filters), one volume's
 * attributes (GET), its notes and protection (PUT), and delete (DELETE, an `imgdel` task). As in PVE, deleting a
 * protected backup is accepted by the API and then fails in the task ("cannot remove protected volume …"), so a
 * client that does not check first and does not read the task's outcome reports a delete that never happened.
 */
export function registerStorageContentRoutes(router: Router): void {
  router
    .get('/nodes/{node}/storage/{storage}/content', listContent)
    .get('/nodes/{node}/storage/{storage}/content/{volume}', volumeInfo)
    .put('/nodes/{node}/storage/{storage}/content/{volume}', updateAttributes)
    .delete('/nodes/{node}/storage/{storage}/content/{volume}', deleteVolume);
}

/** pve-storage parse_volume_id: `storage:volname`. */
const VOLUME_ID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;

/** Where a file storage keeps each content type (Plugin.pm $vtype_subdirs). */
const SUBDIRS: Record<string, string> = {
  iso: 'template/iso',
  vztmpl: 'template/cache',
  backup: 'dump',
  snippets: 'snippets',
  import: 'import',
};

/** The storage's base directory (`path` in storage.cfg; NFS mounts under /mnt/pve/<id>). */
function basePath(storage: SimStorage): string {
  return String(storage.options.path ?? `/mnt/pve/${storage.storage}`);
}

/** The directory a content type is stored in, e.g. `/mnt/pve/nas/dump` (the storage must be file based). */
export function contentDir(storage: SimStorage, content: string): string {
  return `${basePath(storage)}/${SUBDIRS[content] ?? content}`;
}

/** PVE::Storage::path: the file or block device behind a volume. */
export function volumePath(storage: SimStorage, volid: string): string {
  const volname = volumeName(volid);
  if (isFileStorage(storage.type)) {
    const [kind, ...rest] = volname.split('/');
    if (SUBDIRS[kind]) return `${contentDir(storage, kind)}/${rest.join('/')}`;
    return `${basePath(storage)}/images/${volname}`;
  }
  if (storage.type === 'zfspool')
    return `/dev/zvol/${String(storage.options.pool ?? 'rpool/data')}/${volname}`;
  return `/dev/${String(storage.options.vgname ?? 'pve')}/${volname.replace(/^.*\//, '')}`;
}

/**
 * parse_volname's content type of a volume, or PVE's error for a name the storage type cannot parse (a directory
 * storage knows `iso/…`, `vztmpl/…`, `backup/…`, `<vmid>/vm-…`; block storages only guest volumes).
 */
export function volumeType(storage: SimStorage, volid: string): string {
  const volname = volumeName(volid);
  if (isFileStorage(storage.type)) {
    const m = /^(iso|vztmpl|backup|snippets|import)\/[^/]+$/.exec(volname);
    if (m) return m[1];
    if (
      /^\d+\/(?:vm|base)-\d+-[^/]+$/.test(volname) ||
      /^\d+\/base-\d+-[^/]+\/\d+\/vm-\d+-[^/]+$/.test(volname)
    )
      return 'images';
    throw PveError.internal(`unable to parse directory volume name '${volname}'`);
  }
  if (/^(?:(?:base|vm)-\d+-[^/\s]+\/)?(?:vm|base|subvol|basevol)-\d+-[^/\s]+$/.test(volname)) return 'images';
  throw PveError.internal(
    `unable to parse ${storage.type === 'zfspool' ? 'zfs' : 'lvm'} volume name '${volname}'`,
  );
}

/** The storage.cfg entry, or PVE's 500 for an unknown id. */
export function requireStorage(ctx: RouteContext, id: string): SimStorage {
  const storage = ctx.cluster.storage(id);
  if (!storage) throw PveError.internal(`storage '${id}' does not exist`);
  return storage;
}

/** storage_check_enabled: disabled, or not configured for this node. */
export function checkEnabled(ctx: RouteContext, storage: SimStorage, node: string): void {
  const refused = ctx.cluster.storageUnavailable(storage, node);
  if (refused) throw PveError.internal(refused);
}

/** The volume as `node` sees it (stored content or a guest's disk), or undefined. */
export function findVolume(
  ctx: RouteContext,
  node: string,
  storage: SimStorage,
  volid: string,
): SimVolume | undefined {
  return ctx.cluster.volumes(node, storage).find((v) => v.volid === volid);
}

/** Content.pm $real_volume_id: a full volid (its storage must match `{storage}`), or a name inside `{storage}`. */
function realVolumeId(ctx: RouteContext): { volid: string; storage: SimStorage } {
  const volume = ctx.str('volume') ?? '';
  const storeParam = ctx.str('storage');
  if (volume.includes(':')) {
    const m = VOLUME_ID.exec(volume);
    if (!m) throw PveError.params({ volume: `unable to parse volume ID '${volume}'\n` });
    if (storeParam && m[1] !== storeParam) {
      throw PveError.params({ volume: `storage ID mismatch (${m[1]} != ${storeParam})\n` });
    }
    return { volid: volume, storage: requireStorage(ctx, m[1]) };
  }
  if (!storeParam) throw PveError.params({ volume: 'no storage specified - incomplete volume ID' });
  return { volid: `${storeParam}:${volume}`, storage: requireStorage(ctx, storeParam) };
}

/** A list item as PVE prints it: only the API's fields, notes cut to their first line. */
function contentItem(volume: SimVolume): Record<string, unknown> {
  return {
    volid: volume.volid,
    content: volume.content,
    format: volume.format,
    size: volume.size,
    ctime: volume.ctime,
    ...(volume.vmid !== undefined ? { vmid: volume.vmid } : {}),
    ...(volume.used !== undefined ? { used: volume.used } : {}),
    ...(volume.subtype ? { subtype: volume.subtype } : {}),
    ...(volume.notes !== undefined && volume.notes !== '' ? { notes: volume.notes.split('\n', 1)[0] } : {}),
    ...(volume.protected ? { protected: 1 } : {}),
  };
}

/** GET …/content: the volumes of the enabled content types, filtered, sorted by volid (PVE's volume_list). */
function listContent(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const storage = requireStorage(ctx, ctx.str('storage') ?? '');
  checkEnabled(ctx, storage, node);
  const content = ctx.str('content');
  if (content !== undefined && !storage.content.includes(content)) return [];
  const vmid = ctx.int('vmid');
  return ctx.cluster
    .volumes(node, storage)
    .filter(
      (v) => (content === undefined || v.content === content) && (vmid === undefined || v.vmid === vmid),
    )
    .sort((a, b) => (a.volid.toLowerCase() < b.volid.toLowerCase() ? -1 : 1))
    .map(contentItem);
}

/** GET …/content/{volume}: path, size, used, format, and a backup's notes and protection. */
function volumeInfo(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const { volid, storage } = realVolumeId(ctx);
  volumeType(storage, volid);
  const volume = findVolume(ctx, node, storage, volid);
  const path = volumePath(storage, volid);
  if (!volume) {
    // file_size_info on a file that is not there
    throw PveError.internal(`volume_size_info on '${volid}' failed - no format`);
  }
  return {
    path,
    size: volume.size,
    used: volume.used ?? volume.size,
    format: volume.format,
    ...(volume.content === 'backup' && volume.notes ? { notes: volume.notes } : {}),
    ...(volume.content === 'backup' ? { protected: volume.protected ? 1 : 0 } : {}),
  };
}

/** PUT …/content/{volume}: notes and protection, which only backups have (Plugin::update_volume_attribute). */
function updateAttributes(ctx: RouteContext): null {
  const node = ctx.node().name;
  const { volid, storage } = realVolumeId(ctx);
  const vtype = volumeType(storage, volid);
  for (const attribute of ['notes', 'protected']) {
    if (!ctx.has(attribute)) continue;
    if (vtype !== 'backup') throw PveError.internal(`only backups support attribute '${attribute}'`);
    const volume = findVolume(ctx, node, storage, volid);
    if (!volume) throw PveError.internal(`volume '${volid}' does not exist`);
    if (attribute === 'notes') volume.notes = ctx.str('notes') ?? '';
    else if (ctx.bool('protected')) volume.protected = 1;
    else delete volume.protected;
  }
  return null;
}

/**
 * DELETE …/content/{volume}: the `imgdel` task (id `<ownervmid>@<storage>` or `<storage>`) frees the volume. A
 * protected backup, or a volume that is not there, fails the task, not the request. With `delay` the request waits
 * up to that many seconds and answers null once the task ended OK (or PVE's error text if it failed).
 */
async function deleteVolume(ctx: RouteContext): Promise<unknown> {
  const node = ctx.node().name;
  const { volid, storage } = realVolumeId(ctx);
  const vtype = volumeType(storage, volid);
  const owner = volumeOwner(volid) ?? backupOwner(volid);
  const path = volumePath(storage, volid);
  const task = ctx.tasks.start({
    node,
    type: 'imgdel',
    id: owner !== undefined ? `${owner}@${storage.storage}` : storage.storage,
    user: ctx.authUser,
    run: (t: SimTask) => {
      checkEnabled(ctx, storage, node);
      const volume = findVolume(ctx, node, storage, volid);
      if (!volume) {
        return isFileStorage(storage.type)
          ? `unlink '${path}' failed - No such file or directory`
          : `lvremove '${String(storage.options.vgname ?? 'pve')}/${volumeName(volid)}' error:   Failed to find logical volume "${String(storage.options.vgname ?? 'pve')}/${volumeName(volid)}"`;
      }
      if (volume.protected)
        return `cannot remove protected volume '${volumeName(volid)}' on '${storage.storage}'`;
      if (!ctx.cluster.removeVolume(node, storage, volid)) removeGuestVolume(ctx, volid);
      t.log.push(`Removed volume '${volid}'`);
      if (vtype === 'backup') t.log.push(`Removed auxiliary files of '${path}' (notes, log)`);
      return undefined;
    },
  });
  const delay = ctx.int('delay');
  if (!delay) return task.upid;
  const ended = await Promise.race([
    ctx.tasks.whenDone(task.upid),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), delay * 1000).unref()),
  ]);
  if (!ended) return task.upid;
  if (ended.exitstatus === 'OK' || ended.exitstatus?.startsWith('WARNINGS:')) return null;
  throw PveError.internal(ended.exitstatus ?? 'unexpected status');
}

/** `backup/vzdump-qemu-100-…` → 100. */
export function backupOwner(volid: string): number | undefined {
  const m = /(?:^|[:/])vzdump-(?:qemu|lxc|openvz)-(\d+)-/.exec(volid);
  return m ? Number(m[1]) : undefined;
}

/**
 * A guest disk exists only as its config's reference here: freeing it (PVE would free the volume and leave the
 * config pointing at nothing) drops the reference, so the volume is gone from every listing.
 */
function removeGuestVolume(ctx: RouteContext, volid: string): void {
  const owner = volumeOwner(volid);
  const guest = owner === undefined ? undefined : ctx.cluster.guest(owner);
  if (!guest) return;
  for (const [key, value] of Object.entries(guest.config)) {
    if (
      String(value)
        .split(',')[0]
        .replace(/^(?:file|volume)=/, '') === volid
    )
      delete guest.config[key];
  }
}
