import { num } from '../../common/format/human.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import type { PoolDto, PoolGuestDto } from './dto/pools.dto.js';

/** One row of GET /pools (PVE 9: `poolid`, `comment`; members only when a poolid is asked for). */
export interface PvePool {
  poolid: string;
  comment?: string;
}

const toPoolGuest = (r: PveClusterResource): PoolGuestDto => ({
  vmid: num(r.vmid),
  type: r.type === 'lxc' ? 'lxc' : 'qemu',
  ...(r.name ? { name: String(r.name) } : {}),
  node: String(r.node),
  status: r.status ? String(r.status) : 'unknown',
});

/**
 * The pools of GET /pools with their guests from the inventory rows (each guest row names its `pool`), so a
 * pool list costs two cluster-wide reads, not one GET /pools?poolid=… per pool.
 */
export function toPools(pools: readonly PvePool[], guests: readonly PveClusterResource[]): PoolDto[] {
  return [...pools]
    .sort((a, b) => a.poolid.localeCompare(b.poolid))
    .map((pool) => ({
      poolid: pool.poolid,
      ...(pool.comment ? { comment: pool.comment } : {}),
      guests: guests
        .filter((g) => g.pool === pool.poolid)
        .map(toPoolGuest)
        .sort((a, b) => a.vmid - b.vmid),
    }));
}
