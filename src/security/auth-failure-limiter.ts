import { isIPv4, isIPv6 } from 'node:net';

export interface FailureVerdict {
  /** Failures from this address in the current window, this one included. */
  count: number;
  /** Over the limit: answer 429 with Retry-After instead of 401. */
  throttled: boolean;
  /** Milliseconds until the window ends. */
  retryAfterMs: number;
}

interface Window {
  start: number;
  count: number;
}

/**
 * Counts failed API-key attempts per client address in a fixed window. Bounded: at most `maxAddresses` windows
 * are kept; the oldest is evicted first (windows are re-inserted when they restart, so Map order is age order).
 * IPv6 clients are counted per /64, since one host usually owns a whole /64 and could otherwise rotate addresses.
 *
 * Why not @nestjs/throttler: API keys are checked in Express middleware (it must also cover /docs and
 * /openapi.json, which Swagger mounts outside Nest), before any Nest guard runs, so a ThrottlerGuard would never
 * see a failed attempt; and only failures are counted here, which its per-route request limits do not express.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  fail(address: string | undefined): FailureVerdict {
    const key = addressKey(address);
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      this.windows.delete(key);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
      while (this.windows.size > this.maxAddresses) {
        this.windows.delete(this.windows.keys().next().value as string);
      }
    }
    window.count += 1;
    return {
      count: window.count,
      throttled: window.count > this.limit,
      retryAfterMs: Math.max(0, window.start + this.windowMs - now),
    };
  }

  get size(): number {
    return this.windows.size;
  }
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; `2001:db8:1:2:3:4:5:6` → `2001:db8:1:2::/64`. */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('%')[0].toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const full = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${full
    .slice(0, 4)
    .map((h) => h.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
