/**
 * UPIDs as PVE writes them (pve-common UPID.pm): `sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:")` over node, pid,
 * pstart (clock ticks since boot), starttime (epoch), worker type, id and user, with a trailing colon.
 */
export interface UpidParts {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

export function formatUpid(p: UpidParts): string {
  return `UPID:${p.node}:${hex8(p.pid)}:${hex8(p.pstart)}:${hex8(p.starttime)}:${p.type}:${p.id}:${p.user}:`;
}

// pve-common UPID.pm decode regex (pstart may have 9 digits after ~497 days of uptime).
const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export function parseUpid(upid: string): UpidParts | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  return {
    node: m[1],
    pid: parseInt(m[3], 16),
    pstart: parseInt(m[4], 16),
    starttime: parseInt(m[5], 16),
    type: m[6],
    id: m[7],
    user: m[8],
  };
}

/** `root@pam!mcp` → user `root@pam` + tokenid `mcp`, as the task endpoints report it (manager Tasks.pm). */
export function splitTokenUser(user: string): { user: string; tokenid?: string } {
  const bang = user.indexOf('!');
  return bang < 0 ? { user } : { user: user.slice(0, bang), tokenid: user.slice(bang + 1) };
}
