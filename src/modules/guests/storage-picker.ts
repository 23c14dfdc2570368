import { DomainError } from '../../common/errors/domain-error.js';
import { formatBytes, num } from '../../common/format/human.js';
import { canSnapshot, snapshotCapableText, snapshotPlan, type GuestKind } from './storage-features.js';

/** One row of GET /nodes/{node}/storage (PVE sends booleans as 0/1, sizes in bytes). */
export interface NodeStorage {
  storage: string;
  type: string;
  content: string;
  active?: number | boolean;
  enabled?: number | boolean;
  avail?: number | string;
  shared?: number | boolean;
}

/** What a new volume is for: the PVE content type a storage must hold for it. */
export type StorageContent = 'images' | 'rootdir' | 'backup';

const PURPOSE: Record<StorageContent, string> = {
  images: 'VM disks',
  rootdir: 'container disks',
  backup: 'backups',
};

const holds = (s: NodeStorage, content: StorageContent) => s.content.split(/[,;\s]+/).includes(content);
/** `enabled` is absent on older PVE: only an explicit 0 means disabled. */
const usable = (s: NodeStorage) => num(s.active) === 1 && (s.enabled === undefined || num(s.enabled) === 1);

/**
 * The storage for a new volume on `node`, from the node's own storage list (only storages configured for that
 * node, `active` telling whether it is reachable there). A named storage must hold that content, be enabled and
 * active there, and have room for `minBytes`; without a name the usable one with the most free space wins. (The
 * reference picked `local-lvm` by name, ignoring node, content and space: its bug #10.) The errors list the
 * storages that would do.
 */
export function pickStorage(
  rows: NodeStorage[],
  node: string,
  content: StorageContent,
  options: { wanted?: string; minBytes?: number; sizeLabel?: string } = {},
): NodeStorage {
  const what = PURPOSE[content];
  const minBytes = options.minBytes ?? 0;
  const candidates = rows.filter((s) => holds(s, content) && usable(s));
  const list = candidates.map((s) => `${s.storage} (${formatBytes(num(s.avail))} free)`).join(', ') || 'none';
  const tooSmall = (s: NodeStorage) => minBytes > 0 && num(s.avail) < minBytes;
  const size = options.sizeLabel ?? formatBytes(minBytes);
  if (options.wanted !== undefined) {
    const row = rows.find((s) => s.storage === options.wanted);
    if (!row || !holds(row, content)) {
      throw new DomainError('VALIDATION', `storage '${options.wanted}' cannot hold ${what} on node ${node}`, {
        hint: `Storages on ${node} that can (content '${content}'): ${list}. Leave storage out to pick the one with the most free space.`,
        details: { field: 'storage' },
      });
    }
    if (!usable(row)) {
      throw new DomainError(
        'CONFLICT',
        `storage '${options.wanted}' is disabled or not active on node ${node}`,
        {
          hint: `Usable storages on ${node} for ${what}: ${list}.`,
        },
      );
    }
    if (tooSmall(row)) {
      throw new DomainError(
        'CONFLICT',
        `storage '${options.wanted}' on node ${node} has ${formatBytes(num(row.avail))} free, less than the ${size} needed`,
        { hint: `Pick a smaller size or another storage: ${list}.` },
      );
    }
    return row;
  }
  const best = [...candidates].sort((a, b) => num(b.avail) - num(a.avail))[0];
  if (!best) {
    throw new DomainError(
      'CONFLICT',
      `No enabled, active storage on node ${node} can hold ${what} (content '${content}')`,
      {
        hint: `Add or enable a storage with content "${content}" for this node in Proxmox, pass storage, or use another node.`,
      },
    );
  }
  if (tooSmall(best)) {
    throw new DomainError(
      'CONFLICT',
      `No storage on node ${node} has room for ${size} of ${what} (most free: ${best.storage}, ${formatBytes(num(best.avail))})`,
      { hint: 'Pick a smaller size, free space, or use another node.' },
    );
  }
  return best;
}

/** A storage for a guest's new disk, the image format to ask for, and why: said in the create tools' results. */
export interface GuestStoragePick {
  row: NodeStorage;
  /** `qcow2` on file storages, so the disk can take snapshots; undefined = the storage's own format. */
  format?: 'qcow2';
  /** The disk format that results: qcow2, or what the storage type keeps (raw, subvol). */
  formatLabel: string;
  /** Whether snapshots of the new disk will work (undefined: a storage type we cannot judge). */
  snapshots: boolean | undefined;
  /** One sentence: which storage and format, and why. */
  reason: string;
}

/**
 * The storage for a new guest's disk (`qemu`: content images; `lxc`: rootdir). Without a name, storages on which
 * the disk can take snapshots come first (thin LVM, ZFS, Ceph RBD, Btrfs, and for VMs file storages with a qcow2
 * image), the most free space among them wins; only when none of them is usable with room is another one taken,
 * and the reason says snapshots will not work. A named storage is used as asked (qcow2 on a file storage).
 */
export function pickGuestStorage(
  rows: NodeStorage[],
  node: string,
  kind: GuestKind,
  options: { wanted?: string; minBytes?: number; sizeLabel?: string } = {},
): GuestStoragePick {
  const content: StorageContent = kind === 'qemu' ? 'images' : 'rootdir';
  const plan = (row: NodeStorage) => snapshotPlan(row.type, kind);
  const picked = (row: NodeStorage, why: string): GuestStoragePick => {
    const p = plan(row);
    const formatLabel = p === 'qcow2' ? 'qcow2' : kind === 'lxc' && row.type === 'zfspool' ? 'subvol' : 'raw';
    const snapshots = p !== 'none' ? true : canSnapshot(row.type, formatLabel, kind);
    const then =
      p === 'qcow2'
        ? ', as qcow2 so the disk can take snapshots'
        : snapshots === false
          ? `; ${row.type} storage cannot take snapshots of ${PURPOSE[content]}`
          : '';
    return {
      row,
      ...(p === 'qcow2' ? { format: 'qcow2' as const } : {}),
      formatLabel,
      snapshots,
      reason: `${row.storage} (${row.type}, ${formatLabel}): ${why}${then}`,
    };
  };
  if (options.wanted !== undefined) {
    return picked(pickStorage(rows, node, content, options), 'the storage asked for');
  }
  const minBytes = options.minBytes ?? 0;
  const capable = rows
    .filter((s) => holds(s, content) && usable(s) && plan(s) !== 'none')
    .filter((s) => minBytes === 0 || num(s.avail) >= minBytes)
    .sort((a, b) => num(b.avail) - num(a.avail));
  if (capable[0]) {
    return picked(
      capable[0],
      `of the storages on ${node} that can take snapshots of ${PURPOSE[content]}, the one with the most free space (${formatBytes(num(capable[0].avail))})`,
    );
  }
  const row = pickStorage(rows, node, content, options);
  return picked(
    row,
    `no storage on ${node} that can take snapshots of ${PURPOSE[content]} is usable with room (${snapshotCapableText(kind)}), so the one with the most free space`,
  );
}
