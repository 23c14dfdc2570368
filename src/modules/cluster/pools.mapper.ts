import { num } from '../../common/format/human.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import type { PoolDto, PoolGuestDto } from './dto/pools.dto.js';

/** One row of GET /pools (PVE 9: `poolid`, `comment`; `members` only when a poolid is asked for). */
export interface PvePool {
  poolid: string;
  comment?: string;
  /** Guests as /cluster/resources rows (type qemu/lxc) and storages (type storage, one row each). */
  members?: PveClusterResource[];
}

const isGuest = (r: PveClusterResource): boolean => r.type === 'qemu' || r.type === 'lxc';

const toPoolGuest = (r: PveClusterResource): PoolGuestDto => ({
  vmid: num(r.vmid),
  type: r.type === 'lxc' ? 'lxc' : 'qemu',
  ...(r.name ? { name: String(r.name) } : {}),
  node: String(r.node),
  status: r.status ? String(r.status) : 'unknown',
});

/** The storage IDs among a pool's members (GET /pools?poolid=…), sorted. */
export const poolStorages = (pool: PvePool | undefined): string[] =>
  (pool?.members ?? [])
    .filter((m) => m.type === 'storage' && m.storage !== undefined)
    .map((m) => String(m.storage))
    .sort();

/**
 * The pools of GET /pools with their guests from the inventory rows (each guest row names its `pool`), so the
 * guests of every pool cost one cluster-wide read; `storages` maps each poolid to its storage IDs.
 */
export function toPools(
  pools: readonly PvePool[],
  guests: readonly PveClusterResource[],
  storages: ReadonlyMap<string, string[]>,
): PoolDto[] {
  return [...pools]
    .sort((a, b) => a.poolid.localeCompare(b.poolid))
    .map((pool) => ({
      poolid: pool.poolid,
      ...(pool.comment ? { comment: pool.comment } : {}),
      guests: guests
        .filter((g) => g.pool === pool.poolid)
        .map(toPoolGuest)
        .sort((a, b) => a.vmid - b.vmid),
      storages: storages.get(pool.poolid) ?? [],
    }));
}

/** One pool from its GET /pools?poolid=… row: guests and storages from its members. */
export function toPool(pool: PvePool): PoolDto {
  return {
    poolid: pool.poolid,
    ...(pool.comment ? { comment: pool.comment } : {}),
    guests: (pool.members ?? [])
      .filter(isGuest)
      .map(toPoolGuest)
      .sort((a, b) => a.vmid - b.vmid),
    storages: poolStorages(pool),
  };
}
