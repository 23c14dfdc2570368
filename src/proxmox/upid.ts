/**
 * UPID: the id of a PVE task, `UPID:node:pid:pstart:starttime:type:id:user:` (proxmox-api.md §5).
 * Parsed with PVE's own decode regex (pve-common UPID.pm), never by splitting on ':' blindly.
 */
export interface Upid {
  /** The UPID exactly as given. */
  raw: string;
  node: string;
  pid: number;
  /** Process start time in clock ticks since boot (identifies the pid across reuse). */
  pstart: number;
  /** Task start, Unix epoch seconds. */
  starttimeEpoch: number;
  starttime: Date;
  /** Worker type, e.g. `qmstart`, `vzdump`, `imgdel`. */
  type: string;
  /** Usually the vmid; empty for multi-guest backups; an encoded filename for `download`. */
  id: string;
  /** `user@realm`, or `user@realm!tokenname` for tasks started with an API token. */
  user: string;
}

// pve-common UPID.pm L34-36 (its `\-` in the node class written as a plain `-`).
// pstart may grow to 9 hex digits after ~497 days of uptime.
export const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export function parseUpid(upid: string): Upid | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  const [, node, , pid, pstart, starttime, type, id, user] = m;
  const starttimeEpoch = parseInt(starttime, 16);
  return {
    raw: upid,
    node,
    pid: parseInt(pid, 16),
    pstart: parseInt(pstart, 16),
    starttimeEpoch,
    starttime: new Date(starttimeEpoch * 1000),
    type,
    id,
    user,
  };
}

export const isUpid = (value: unknown): value is string => typeof value === 'string' && UPID_RE.test(value);
