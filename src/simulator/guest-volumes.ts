import type { GuestConfig, GuestType, SimStorage, StorageType } from './cluster-model.js';

/**
 * Drive and volume strings as qemu-server and pve-container write them: `local-lvm:vm-100-disk-0,iothread=1,size=32G`
 * (the volume first, then the options in key order), volume names per storage type, and what each storage type
 * can do (pve-storage `volume_has_feature`). Pure functions; ClusterState and the handlers use them.
 */
export const GiB = 1024 ** 3;

/** qemu drive keys (QemuServer::Drive::is_valid_drivename). */
const QEMU_DRIVE = /^(?:ide[0-3]|sata[0-5]|scsi(?:[12]?\d|30)|virtio(?:1[0-5]|\d)|efidisk0|tpmstate0)$/;

export function isQemuDriveKey(key: string): boolean {
  return QEMU_DRIVE.test(key);
}

/** Keys that may hold a guest's volumes: drives, rootfs/mpN, unusedN. */
export function isVolumeKey(type: GuestType, key: string): boolean {
  if (/^unused\d+$/.test(key)) return true;
  return type === 'qemu' ? isQemuDriveKey(key) : key === 'rootfs' || /^mp\d+$/.test(key);
}

export interface Drive {
  /** The volume: `storage:volname`, `none`, `cdrom`, a path, or `storage:SIZE` for a new disk. */
  file: string;
  options: Map<string, string>;
}

/** `file[,key=value…]`; `file=` may also be spelled out (`[file=]<volume>`, `[volume=]` for lxc). */
export function parseDrive(text: string): Drive {
  const options = new Map<string, string>();
  let file = '';
  for (const part of text.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (!file) file = part;
      continue;
    }
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if ((key === 'file' || key === 'volume') && !file) file = value;
    else options.set(key, value);
  }
  return { file, options };
}

/** PVE's print_drive: the volume, then the options sorted by key. */
export function formatDrive(drive: Drive): string {
  const opts = [...drive.options.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [drive.file, ...opts.map(([k, v]) => `${k}=${v}`)].join(',');
}

export function isCdrom(drive: Drive): boolean {
  return drive.options.get('media') === 'cdrom' || drive.file === 'cdrom';
}

export function isCloudinit(drive: Drive): boolean {
  return /(?:^|:|\/)(?:vm-\d+-)?cloudinit(?:\.\w+)?$/.test(drive.file);
}

/** `local-lvm:vm-100-disk-0` → `local-lvm`; paths, `none` and `cdrom` have no storage. */
export function volumeStorage(volid: string): string | undefined {
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(volid);
  return m ? m[1] : undefined;
}

export function volumeName(volid: string): string {
  return volid.slice(volid.indexOf(':') + 1);
}

/** The guest a volume belongs to (`vm-120-disk-0`, `base-9000-disk-0/vm-120-disk-0` → 120). */
export function volumeOwner(volid: string): number | undefined {
  const name = volumeName(volid);
  const m = /(?:^|\/)(?:vm|base|subvol|basevol)-(\d+)-[^/]*$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function isBaseVolume(volid: string): boolean {
  return /(?:^|\/)(?:base|basevol)-\d+-[^/]*$/.test(volumeName(volid));
}

/** `disk-size` values (`32G`, `631M`, `4194304`) in bytes. */
export function parseSize(text: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(text ?? '');
  if (!m) return 0;
  const unit = { K: 1024, M: 1024 ** 2, G: GiB, T: 1024 * GiB }[m[2] ?? ''] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/** PVE's format_size: the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['T', 1024 * GiB],
    ['G', GiB],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** `STORAGE:SIZE` (GiB) or `:SIZE` requests a new volume (qemu NEW_DISK_RE, lxc rootfs alike). */
export function newDiskRequest(file: string): { storage?: string; sizeGiB: number } | undefined {
  const m = /^(?:([a-z][a-z0-9\-_.]*[a-z0-9]):)?(\d+(?:\.\d+)?)$/i.exec(file);
  return m ? { storage: m[1], sizeGiB: Number(m[2]) } : undefined;
}

/** A volume a guest uses: its config key, volume id, size and whether it is a cdrom medium. */
export interface GuestVolumeRef {
  key: string;
  volid: string;
  size: number;
  cdrom: boolean;
}

/** The volumes in a config (drives, rootfs/mpN, unusedN) with a storage-managed volume id. */
export function configVolumes(type: GuestType, config: GuestConfig): GuestVolumeRef[] {
  const out: GuestVolumeRef[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!isVolumeKey(type, key)) continue;
    const drive = parseDrive(String(value));
    if (!volumeStorage(drive.file)) continue;
    out.push({
      key,
      volid: drive.file,
      size: parseSize(drive.options.get('size')),
      cdrom: isCdrom(drive),
    });
  }
  return out;
}

/** Image format of a volume: file storages keep it in the name; block storages are raw. */
export function volumeFormat(volid: string, type: StorageType, guestType: GuestType): string {
  const ext = /\.(raw|qcow2|vmdk)$/.exec(volid)?.[1];
  if (ext) return ext;
  if (type === 'zfspool' && guestType === 'lxc') return 'subvol';
  return 'raw';
}

/** File storages keep images under `<vmid>/` with a format extension; block storages name LVs/zvols directly. */
export function isFileStorage(type: StorageType): boolean {
  return type === 'dir' || type === 'nfs';
}

export function newVolumeName(
  storage: SimStorage,
  vmid: number,
  index: number,
  options: { format?: string; kind?: 'disk' | 'cloudinit' | 'state'; stateName?: string; base?: boolean },
): string {
  const kind = options.kind ?? 'disk';
  const prefix = options.base ? 'base' : 'vm';
  const stem =
    kind === 'cloudinit'
      ? `vm-${vmid}-cloudinit`
      : kind === 'state'
        ? `vm-${vmid}-state-${options.stateName ?? 'suspend'}`
        : `${prefix}-${vmid}-disk-${index}`;
  if (!isFileStorage(storage.type)) return `${storage.storage}:${stem}`;
  const format = options.format ?? (kind === 'cloudinit' ? 'qcow2' : 'raw');
  return `${storage.storage}:${vmid}/${stem}.${format}`;
}

/**
 * What a storage type offers (pve-storage plugins' `volume_has_feature`): `current` = the live volume, `snap` = a
 * snapshot of it, `base` = a template's base volume. File storages need qcow2 for snapshots.
 */
export type VolumeFeature = 'snapshot' | 'clone' | 'copy' | 'template';

export function volumeHasFeature(
  type: StorageType,
  feature: VolumeFeature,
  volid: string,
  fromSnapshot: boolean,
  guestType: GuestType = 'qemu',
): boolean {
  const base = isBaseVolume(volid);
  const where = fromSnapshot ? 'snap' : base ? 'base' : 'current';
  const format = volumeFormat(volid, type, guestType);
  switch (type) {
    case 'lvmthin':
    case 'zfspool': {
      const table: Record<VolumeFeature, string[]> = {
        snapshot: ['current'],
        clone: ['base', 'snap'],
        copy: ['base', 'current', 'snap'],
        template: ['current'],
      };
      return table[feature].includes(where);
    }
    case 'lvm':
      return feature === 'copy' ? where !== 'snap' : feature === 'template';
    case 'dir':
    case 'nfs': {
      if (feature === 'snapshot') return where !== 'base' && format === 'qcow2';
      if (feature === 'clone') return where === 'base';
      if (feature === 'copy') return where !== 'snap' || format === 'qcow2';
      return where === 'current';
    }
  }
}

/** Storages that refuse to roll back past a newer snapshot (ZFS: `zfs rollback` needs the most recent one). */
export function rollbackNeedsMostRecent(type: StorageType): boolean {
  return type === 'zfspool';
}
