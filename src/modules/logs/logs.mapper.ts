import { capText, num } from '../../common/format/human.js';
import type { PveTaskLogLine } from '../../proxmox/pve-types.js';
import { isoTime } from './log-time.js';
import { LOG_TEXT_CAP_BYTES, type ClusterLogEntryDto, type LogLineDto } from './dto/logs.dto.js';

/** A /cluster/log entry as pmxcfs writes it (clog_dump_json); numbers may arrive as strings. */
export interface PveClusterLogEntry {
  uid?: number | string;
  time?: number | string;
  pri?: number | string;
  tag?: string;
  pid?: number | string;
  node?: string;
  user?: string;
  msg?: string;
}

/** A page of log lines, and how far it got. */
export interface MappedPage {
  lines: LogLineDto[];
  total: number;
  next_start: number | null;
  truncated: boolean;
}

/**
 * The lines PVE puts in place of an empty result, which are not log content: journalctl's "-- No entries --"
 * and dump_logfile's "no content" (both as the only line, total 1).
 */
const PLACEHOLDERS = new Set(['-- No entries --', 'no content']);

/**
 * PVE's `{n, t}` page → our page. The byte cap cuts the page after the last whole line that fits (a first line
 * longer than the cap is shortened); next_start then continues right after what was returned.
 */
export function toLogPage(
  data: PveTaskLogLine[] | null | undefined,
  total: number | undefined,
  start: number,
  parseTime?: (text: string) => number | undefined,
): MappedPage {
  const raw = Array.isArray(data) ? data : [];
  if (start === 0 && raw.length === 1 && (total ?? 1) <= 1 && PLACEHOLDERS.has(String(raw[0].t))) {
    return { lines: [], total: 0, next_start: null, truncated: false };
  }
  const lines: LogLineDto[] = [];
  let bytes = 0;
  let truncated = false;
  for (const line of raw) {
    let text = String(line.t ?? '');
    const size = Buffer.byteLength(text) + 1;
    if (bytes + size > LOG_TEXT_CAP_BYTES) {
      truncated = true;
      if (lines.length > 0) break;
      text = capText(text, LOG_TEXT_CAP_BYTES - 64).text + ' …[line cut at the size cap]';
    }
    bytes += size;
    const time = parseTime?.(text);
    lines.push({
      n: num(line.n) || start + lines.length + 1,
      text,
      ...(time !== undefined ? { time: isoTime(time) } : {}),
    });
    if (truncated) break;
  }
  const knownTotal = total ?? start + raw.length;
  const reached = lines.at(-1)?.n;
  return {
    lines,
    total: knownTotal,
    // an empty page never points onwards: a caller following next_start must reach an end
    next_start: reached !== undefined && reached < knownTotal ? reached : null,
    truncated,
  };
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** pvefw-logger lines carry a full timestamp: "0 6 PVEFW-HOST-IN 24/Nov/2026:20:43:23 +0100 policy DROP: …". */
export function firewallLineTime(text: string): number | undefined {
  const m =
    /^\d+ \d+ \S+ (\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) /.exec(text);
  if (!m || MONTHS[m[2]] === undefined) return undefined;
  const local =
    Date.UTC(Number(m[3]), MONTHS[m[2]], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 3600 + Number(m[9]) * 60);
  return local - offset;
}

const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

export function toClusterLogEntry(e: PveClusterLogEntry): ClusterLogEntryDto {
  const pri = num(e.pri);
  return {
    uid: num(e.uid),
    time: isoTime(num(e.time)),
    node: String(e.node ?? ''),
    severity: SEVERITIES[pri] ?? String(pri),
    tag: String(e.tag ?? ''),
    ...(e.pid !== undefined && e.pid !== null && e.pid !== '' ? { pid: num(e.pid) } : {}),
    user: String(e.user ?? ''),
    msg: String(e.msg ?? ''),
  };
}

/** The one-line form of a cluster log entry, used for the text answer and the byte cap. */
export const clusterLogLine = (e: ClusterLogEntryDto): string =>
  `${e.time} ${e.node} ${e.tag}${e.pid === undefined ? '' : `[${e.pid}]`} ${e.severity} ${e.user}: ${e.msg}`;
