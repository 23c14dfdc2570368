import { DomainError } from '../../common/errors/domain-error.js';

/** since/until as the caller gave them, resolved to epoch seconds. */
export interface TimeWindow {
  since?: number;
  until?: number;
}

/**
 * Reads since/until (already pattern-checked by the DTO: ISO-8601 or epoch seconds) into epoch seconds, refusing
 * dates that do not exist (2026-02-30) and a window that ends before it starts, naming the field.
 */
export function resolveWindow(since?: string, until?: string): TimeWindow {
  const window: TimeWindow = {
    ...(since !== undefined ? { since: parseLogTime('since', since) } : {}),
    ...(until !== undefined ? { until: parseLogTime('until', until) } : {}),
  };
  if (window.since !== undefined && window.until !== undefined && window.until < window.since) {
    const message = `until (${isoTime(window.until)}) must not be before since (${isoTime(window.since)})`;
    throw new DomainError('VALIDATION', `Invalid arguments: ${message}`, { details: { errors: [message] } });
  }
  return window;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function parseLogTime(field: string, value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const m = ISO.exec(value);
  const refuse = () => {
    const message = `${field} '${value}' is not a date-time that exists`;
    return new DomainError('VALIDATION', `Invalid arguments: ${message}`, {
      hint: 'Use ISO-8601 such as 2026-11-24T20:15:00Z (UTC when no offset is given) or Unix epoch seconds.',
      details: { errors: [message] },
    });
  };
  if (!m) throw refuse();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const zone = m[7];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) throw refuse();
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-30 over into March: a day that does not exist shows as a different month
  if (new Date(utc).getUTCDate() !== day) throw refuse();
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z || Number(z[2]) > 23 || Number(z[3] ?? 0) > 59) throw refuse();
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  }
  const epoch = Math.floor(utc / 1000) - offsetMinutes * 60;
  if (epoch < 0) throw refuse();
  return epoch;
}

export const isoTime = (epoch: number): string => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The node's wall-clock time for `epoch` as journalctl's `--since`/`--until` want it ('YYYY-MM-DD HH:MM:SS', read
 * in the node's zone). The zone's rules come from Intl (DST included); a zone Intl does not know falls back to the
 * node's current offset.
 */
export function nodeLocalTime(epoch: number, timezone: string | undefined, fallbackOffset: number): string {
  const offset = (timezone ? zoneOffset(timezone, epoch) : undefined) ?? fallbackOffset;
  const d = new Date((epoch + offset) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function zoneOffset(timezone: string, epoch: number): number | undefined {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(new Date(epoch * 1000));
    const get = (type: string) => Number(parts.find((x) => x.type === type)?.value);
    const local = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return Number.isFinite(local) ? Math.round(local / 1000) - epoch : undefined;
  } catch {
    return undefined; // RangeError: a zone name this runtime does not know
  }
}
