import type { ProxmoxClient } from '../proxmox/proxmox-client.js';
import { pvePath } from '../proxmox/pve-path.js';

/** Lines per task-log page; PVE's own default is 50, which is how the reference only ever saw a log's start. */
const PAGE = 500;
/** Enough for any real task; a runaway log is not read past this. */
const MAX_LINES = 50_000;

export interface TaskLogChunk {
  lines: string[];
  /** 0-based line offset to continue from. */
  next: number;
  /** Lines in the whole log, as PVE reports. */
  total: number;
}

/** Reads a task log from line `from` to its end, page by page (`start`/`limit`, `total` from PVE). */
export async function readTaskLog(
  client: ProxmoxClient,
  node: string,
  upid: string,
  from = 0,
  opts: { signal?: AbortSignal } = {},
): Promise<TaskLogChunk> {
  const lines: string[] = [];
  let next = from;
  let total = from;
  while (lines.length < MAX_LINES) {
    const page = await client.getWithTotal<Array<{ n: number; t: string }>>(
      pvePath`/nodes/${node}/tasks/${upid}/log`,
      { start: next, limit: PAGE },
      opts,
    );
    total = page.total ?? next + page.data.length;
    // an empty log reads as one "no content" line that is not part of the log: do not move past it
    if (next === 0 && page.data.length === 1 && page.data[0].t === 'no content' && total <= 1) {
      return { lines: [], next: 0, total: 0 };
    }
    lines.push(...page.data.map((l) => l.t));
    next += page.data.length;
    if (page.data.length < PAGE || next >= total) break;
  }
  return { lines, next, total };
}
