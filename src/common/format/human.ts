import { DomainError } from '../errors/domain-error.js';

/** Human text in the reference project's style, for the short text beside structured results. */
const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Every text says a number PVE did not report the same way, never as a made-up 0. */
export const NOT_AVAILABLE = 'N/A';

/** 1024-based with the reference's labels: 4096 → "4.00 KB"; N/A when unknown. */
export function formatBytes(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes)) return NOT_AVAILABLE;
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}

/** "1d 2h 3m", or "0m" when nothing has elapsed; N/A when unknown. */
export function formatUptime(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return NOT_AVAILABLE;
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (!d && !h && !m) return '0m';
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean).join(' ');
}

export const percent = (used: number, total: number): number =>
  total > 0 ? Math.round((used / total) * 1000) / 10 : 0;

/** "used / total (n%)"; a total PVE did not report (0 or missing) is N/A, not "0.00 B (0.0%)". */
export const usageLine = (used: number | undefined, total: number | undefined): string =>
  total === undefined || total <= 0
    ? `${used ? formatBytes(used) : NOT_AVAILABLE} / ${NOT_AVAILABLE}`
    : `${formatBytes(used)} / ${formatBytes(total)} (${percent(used ?? 0, total).toFixed(1)}%)`;

/**
 * A number PVE sent as a number, a numeric string or a 0/1 boolean, depending on the endpoint. An absent value
 * (undefined, null, blank) is 0, as PVE leaves zero counters out; anything else that is not a finite number is a
 * protocol error, never a made-up 0.
 */
export const num = (v: unknown): number => {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (Number.isFinite(n)) return n;
  throw new DomainError('UPSTREAM_PROTOCOL', `Proxmox sent ${describeJunk(v)} where a number belongs`);
};

/** The kind of value, and a short string one in JSON (never an object's content: it may hold secrets). */
const describeJunk = (v: unknown): string =>
  typeof v === 'string'
    ? JSON.stringify(v.slice(0, 40))
    : typeof v === 'number'
      ? String(v)
      : `a ${typeof v}`;

export const partialNote = (unavailable: string[]): string =>
  unavailable.length ? `\n\nPartial result: node(s) ${unavailable.join(', ')} did not answer.` : '';

/** Cuts text to at most `limit` UTF-8 bytes without splitting a character. */
export function capText(text: string, limit: number): { text: string; cut: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return { text, cut: false };
  // a cut inside a multi-byte character decodes to U+FFFD at the end: drop it
  return {
    text: bytes
      .subarray(0, limit)
      .toString('utf8')
      .replace(/\uFFFD+$/, ''),
    cut: true,
  };
}
