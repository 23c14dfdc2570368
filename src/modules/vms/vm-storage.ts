import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';

/** One row of GET /nodes/{node}/storage (PVE sends booleans as 0/1, sizes in bytes). */
export interface NodeStorage {
  storage: string;
  type: string;
  content: string;
  active?: number | boolean;
  enabled?: number | boolean;
  avail?: number;
  shared?: number | boolean;
}

const holdsImages = (s: NodeStorage) => s.content.split(/[,;\s]+/).includes('images');
/** `enabled` is absent on older PVE: only an explicit 0 means disabled. */
const usable = (s: NodeStorage) => num(s.active) === 1 && (s.enabled === undefined || num(s.enabled) === 1);

/**
 * The storage for a new VM's disks on `node`. The node's own storage list is the authority (it lists only storages
 * configured for that node, with `active` telling whether it is reachable there): the caller's choice must hold
 * VM images and be enabled and active there; without a choice the usable one with the most free space wins.
 * (The reference picked by name, `local-lvm` first, ignoring the node: its bug #10.)
 */
export function pickImageStorage(rows: NodeStorage[], node: string, wanted?: string): NodeStorage {
  const candidates = rows.filter((s) => holdsImages(s) && usable(s));
  const names = candidates.map((s) => s.storage).join(', ') || 'none';
  if (wanted !== undefined) {
    const row = rows.find((s) => s.storage === wanted);
    if (!row || !holdsImages(row)) {
      throw new DomainError('VALIDATION', `storage '${wanted}' cannot hold VM disks on node ${node}`, {
        hint: `Storages on ${node} that can: ${names}. Leave storage out to pick the one with the most free space.`,
      });
    }
    if (!usable(row)) {
      throw new DomainError('CONFLICT', `storage '${wanted}' is disabled or not active on node ${node}`, {
        hint: `Usable storages on ${node}: ${names}.`,
      });
    }
    return row;
  }
  const best = [...candidates].sort((a, b) => num(b.avail) - num(a.avail))[0];
  if (!best) {
    throw new DomainError(
      'CONFLICT',
      `No enabled, active storage on node ${node} can hold VM disks (content 'images')`,
      {
        hint: 'Add or enable a storage with content "images" for this node in Proxmox, or use another node.',
      },
    );
  }
  return best;
}
