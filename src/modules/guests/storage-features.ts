/**
 * Which volumes can be snapshotted, by storage type, as pve-storage's `volume_has_feature('snapshot')` answers
 * for a guest's live volume: block storages with their own snapshots (thin LVM, ZFS, Ceph RBD, Btrfs) can;
 * file storages (dir, NFS, CIFS, GlusterFS) only for qcow2 images, never for container volumes; thick LVM and
 * iSCSI LUNs cannot (PVE 9's volume chains on LVM are qcow2 volumes, which the format rule covers). Storage types
 * not listed here (third-party plugins) are unknown: nothing is refused for them, PVE decides.
 */
export type GuestKind = 'qemu' | 'lxc';

const NATIVE: Record<GuestKind, readonly string[]> = {
  qemu: ['lvmthin', 'zfspool', 'zfs', 'rbd', 'btrfs'],
  lxc: ['lvmthin', 'zfspool', 'rbd', 'btrfs'],
};
/** Storages that keep images as files: a VM disk on them can snapshot when it is qcow2. */
export const FILE_STORAGE_TYPES: readonly string[] = ['dir', 'nfs', 'cifs', 'glusterfs'];
const NEVER = ['lvm', 'iscsi', 'iscsidirect', ...FILE_STORAGE_TYPES];

/** One line naming what can snapshot, for hints. */
export function snapshotCapableText(kind: GuestKind): string {
  return kind === 'qemu'
    ? 'thin LVM, ZFS, Ceph RBD and Btrfs storages, or qcow2 images on file storages (dir, NFS, CIFS, GlusterFS)'
    : 'thin LVM, ZFS, Ceph RBD and Btrfs storages (container volumes on file storages and thick LVM cannot)';
}

/** The image format of a volume: file storages keep it in the name (`100/vm-100-disk-0.qcow2`); others raw. */
export function volumeFormat(volid: string, kind: GuestKind): string {
  const ext = /\.(raw|qcow2|vmdk)$/.exec(volid)?.[1];
  if (ext) return ext;
  if (kind === 'lxc' && /(?:^|[:/])(?:subvol|basevol)-/.test(volid)) return 'subvol';
  return 'raw';
}

/** true/false when known; undefined for storage types this table does not know (PVE decides). */
export function canSnapshot(storageType: string, format: string, kind: GuestKind): boolean | undefined {
  if (NATIVE[kind].includes(storageType)) return true;
  if (kind === 'qemu' && format === 'qcow2') return true;
  if (NEVER.includes(storageType)) return false;
  return undefined;
}

/**
 * How a new disk on a storage of this type can be made snapshot-capable: as it is (`native`), as qcow2 on a file
 * storage (`qcow2`), or not at all / unknown (`none`).
 */
export function snapshotPlan(storageType: string, kind: GuestKind): 'native' | 'qcow2' | 'none' {
  if (NATIVE[kind].includes(storageType)) return 'native';
  if (kind === 'qemu' && FILE_STORAGE_TYPES.includes(storageType)) return 'qcow2';
  return 'none';
}
