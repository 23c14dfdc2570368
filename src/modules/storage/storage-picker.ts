import { DomainError } from '../../common/errors/domain-error.js';
import { formatBytes, num } from '../../common/format/human.js';

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
