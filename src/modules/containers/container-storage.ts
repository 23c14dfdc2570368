import { DomainError } from '../../common/errors/domain-error.js';
import { formatBytes, num } from '../../common/format/human.js';
import type { NodeStorage } from '../vms/vm-storage.js';

const GiB = 1024 ** 3;

const holdsRootdir = (s: NodeStorage) => s.content.split(/[,;\s]+/).includes('rootdir');
/** `enabled` is absent on older PVE: only an explicit 0 means disabled. */
const usable = (s: NodeStorage) => num(s.active) === 1 && (s.enabled === undefined || num(s.enabled) === 1);

/**
 * The storage for a new container's root disk on `node`, from the node's own storage list (only storages configured
 * for that node, `active` telling whether it is reachable there). It must hold container directories (content
 * `rootdir`), be enabled and active, and have room for the disk (`avail` ≥ size; thin pools could overcommit, but a
 * create that fills a pool breaks every guest on it). Without a choice the usable one with the most free space wins.
 * (The reference took `local-lvm` by name, else the *last* rootdir storage, ignoring node and space: its bug #10.)
 */
export function pickRootdirStorage(
  rows: NodeStorage[],
  node: string,
  sizeGiB: number,
  wanted?: string,
): NodeStorage {
  const bytes = sizeGiB * GiB;
  const candidates = rows.filter((s) => holdsRootdir(s) && usable(s));
  const list = candidates.map((s) => `${s.storage} (${formatBytes(num(s.avail))} free)`).join(', ') || 'none';
  if (wanted !== undefined) {
    const row = rows.find((s) => s.storage === wanted);
    if (!row || !holdsRootdir(row)) {
      throw new DomainError('VALIDATION', `storage '${wanted}' cannot hold container disks on node ${node}`, {
        hint: `Storages on ${node} that can (content 'rootdir'): ${list}. Leave storage out to pick the one with the most free space.`,
      });
    }
    if (!usable(row)) {
      throw new DomainError('CONFLICT', `storage '${wanted}' is disabled or not active on node ${node}`, {
        hint: `Usable storages on ${node}: ${list}.`,
      });
    }
    if (num(row.avail) < bytes) {
      throw new DomainError(
        'CONFLICT',
        `storage '${wanted}' on node ${node} has ${formatBytes(num(row.avail))} free, less than the ${sizeGiB} GiB disk`,
        { hint: `Pick a smaller disk_size or another storage: ${list}.` },
      );
    }
    return row;
  }
  const best = [...candidates].sort((a, b) => num(b.avail) - num(a.avail))[0];
  if (!best) {
    throw new DomainError(
      'CONFLICT',
      `No enabled, active storage on node ${node} can hold container disks (content 'rootdir')`,
      {
        hint: 'Add or enable a storage with content "rootdir" for this node in Proxmox, or use another node.',
      },
    );
  }
  if (num(best.avail) < bytes) {
    throw new DomainError(
      'CONFLICT',
      `No storage on node ${node} has room for a ${sizeGiB} GiB container disk (most free: ${best.storage}, ${formatBytes(num(best.avail))})`,
      { hint: 'Pick a smaller disk_size, free space, or use another node.' },
    );
  }
  return best;
}
