import type { FaultMode } from './faults.js';

/** One request as the simulator saw it; `path` is relative to /api2/json, without the query string. */
export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Parameters from a POST/PUT body (form or JSON), or null. */
  body: Record<string, unknown> | null;
  /** 0 while unanswered, and for faults that never answer (reset, hang). */
  status: number;
  /** The 400 `errors` of a failed parameter check. */
  schemaErrors?: Record<string, string>;
  /** Set when real PVE would refuse the request itself: unknown path/method, bad parameters, body on GET. */
  violation?: string;
  fault?: FaultMode;
}

export interface RequestFilter {
  method?: string;
  path?: string | RegExp;
}

/** A ring buffer of the last `capacity` requests, so a long benchmark cannot grow memory without bound. */
export class RequestLog {
  private readonly buffer: RecordedRequest[] = [];
  private next = 0;
  private seq = 0;

  constructor(private readonly capacity = 10_000) {}

  /** Total requests seen, including those the buffer has dropped. */
  get total(): number {
    return this.seq;
  }

  add(entry: Omit<RecordedRequest, 'seq'>): RecordedRequest {
    const record: RecordedRequest = { seq: ++this.seq, ...entry };
    if (this.buffer.length < this.capacity) {
      this.buffer.push(record);
    } else {
      this.buffer[this.next] = record;
      this.next = (this.next + 1) % this.capacity;
    }
    return record;
  }

  /** Retained records, oldest first. */
  all(): RecordedRequest[] {
    return this.buffer.length < this.capacity
      ? [...this.buffer]
      : [...this.buffer.slice(this.next), ...this.buffer.slice(0, this.next)];
  }

  since(seq: number): RecordedRequest[] {
    return this.all().filter((r) => r.seq > seq);
  }

  count(filter?: RequestFilter): number {
    if (!filter) return this.buffer.length;
    return this.buffer.filter((r) => matches(r, filter)).length;
  }

  violations(): RecordedRequest[] {
    return this.all().filter((r) => r.violation !== undefined);
  }

  clear(): void {
    this.buffer.length = 0;
    this.next = 0;
  }
}

function matches(record: RecordedRequest, filter: RequestFilter): boolean {
  if (filter.method && record.method !== filter.method.toUpperCase()) return false;
  if (filter.path === undefined) return true;
  return typeof filter.path === 'string' ? record.path === filter.path : filter.path.test(record.path);
}
