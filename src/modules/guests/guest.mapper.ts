import { num, percent } from '../../common/format/human.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import { GUEST_STATUSES, type GuestSummaryDto } from './dto/guest.dto.js';

const statusOf = (s: unknown): GuestSummaryDto['status'] =>
  (GUEST_STATUSES as readonly string[]).includes(String(s)) ? (s as GuestSummaryDto['status']) : 'unknown';

/** A /cluster/resources guest row → GuestSummaryDto. Tags are ';'-separated in PVE. */
export function toGuestSummary(r: PveClusterResource): GuestSummaryDto {
  const vmid = num(r.vmid);
  const type = r.type === 'lxc' ? 'lxc' : 'qemu';
  return {
    vmid,
    name: r.name ? String(r.name) : `${type === 'lxc' ? 'CT' : 'VM'}-${vmid}`,
    node: String(r.node),
    type,
    status: statusOf(r.status),
    cpus: num(r.maxcpu),
    cpu_percent: Math.round(num(r.cpu) * 1000) / 10,
    memory: {
      used_bytes: num(r.mem),
      total_bytes: num(r.maxmem),
      used_percent: percent(num(r.mem), num(r.maxmem)),
    },
    uptime_seconds: num(r.uptime),
    tags: r.tags
      ? String(r.tags)
          .split(/[;,\s]+/)
          .filter(Boolean)
      : [],
    template: num(r.template) === 1,
    ...(r.lock ? { lock: String(r.lock) } : {}),
  };
}

export interface GuestFilter {
  node?: string;
  status?: string;
  limit?: number;
  offset?: number;
}

/** Sorted by vmid, filtered, then paged; returns the page and the total before paging. */
export function pageGuests<T extends { vmid: number; node: string; status: string }>(
  rows: T[],
  f: GuestFilter,
): { page: T[]; total: number; truncated: boolean } {
  const filtered = rows
    .filter((g) => (!f.node || g.node === f.node) && (!f.status || g.status === f.status))
    .sort((a, b) => a.vmid - b.vmid);
  const offset = f.offset ?? 0;
  const limit = f.limit ?? 1000;
  const page = filtered.slice(offset, offset + limit);
  return { page, total: filtered.length, truncated: offset + page.length < filtered.length };
}
