/**
 * Fault injection, switchable at run time per test: `sim.faults.add({ match: { path: '/cluster/resources' },
 * mode: 'status', status: 503, times: 2 })`. A fault applies to /api2/json requests whose method and relative path
 * match; `times` makes it expire after N uses. Several latency faults add up; the first other matching fault
 * decides the answer. How each mode answers is in fault-responses.ts.
 */
export const FAULT_MODES = [
  'latency',
  'status',
  'reset',
  'hang',
  'bad-json',
  'html',
  'huge',
  'truncated',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultSpec {
  match?: { method?: string; path?: string | RegExp };
  mode: FaultMode;
  /** latency: delay before the normal answer. */
  latencyMs?: number;
  /** status: the HTTP status (default 500). */
  status?: number;
  /** status: the error message (default: the standard text for the status). */
  message?: string;
  /** status: adds a Retry-After header. */
  retryAfterSeconds?: number;
  /** Apply N times, then expire (default: until cleared). */
  times?: number;
}

export interface ActiveFault {
  readonly id: number;
  readonly spec: FaultSpec;
  remaining: number | undefined;
  hits: number;
}

export interface FaultDecision {
  delayMs: number;
  fault?: ActiveFault;
}

export class FaultController {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  /** Adds a fault and returns its id (for `remove`). Throws a TypeError for an invalid spec. */
  add(spec: FaultSpec): number {
    validateFault(spec);
    const id = this.nextId++;
    this.faults.push({ id, spec: { ...spec }, remaining: spec.times, hits: 0 });
    return id;
  }

  remove(id: number): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): readonly ActiveFault[] {
    return this.faults;
  }

  /** Consumes one use of every matching fault that applies and says what to do. */
  take(method: string, path: string): FaultDecision {
    const decision: FaultDecision = { delayMs: 0 };
    for (const fault of this.faults) {
      if (!matches(fault.spec, method, path)) continue;
      if (fault.spec.mode === 'latency') {
        decision.delayMs += fault.spec.latencyMs ?? 0;
      } else if (decision.fault) {
        continue; // only the first answering fault is used (and consumed)
      } else {
        decision.fault = fault;
      }
      fault.hits++;
      if (fault.remaining !== undefined) fault.remaining--;
    }
    this.faults = this.faults.filter((f) => f.remaining === undefined || f.remaining > 0);
    return decision;
  }
}

function matches(spec: FaultSpec, method: string, path: string): boolean {
  const m = spec.match;
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? normalisePath(m.path) === path : m.path.test(path);
}

/** Accepts `/cluster/resources`, `cluster/resources` or `/api2/json/cluster/resources`. */
function normalisePath(path: string): string {
  const relative = path.replace(/^\/?api2\/json(?=\/|$)/, '').replace(/\/+$/, '');
  return relative.startsWith('/') ? relative : `/${relative}`;
}

function validateFault(spec: FaultSpec): void {
  if (!spec || !(FAULT_MODES as readonly string[]).includes(spec.mode)) {
    throw new TypeError(
      `fault mode must be one of ${FAULT_MODES.join(', ')} (got ${JSON.stringify(spec?.mode)})`,
    );
  }
  const nonNegative = (name: keyof FaultSpec, value: unknown, integer = false) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !(value >= 0) || (integer && !Number.isInteger(value))) {
      throw new TypeError(`fault ${name} must be a non-negative ${integer ? 'integer' : 'number'}`);
    }
  };
  nonNegative('latencyMs', spec.latencyMs);
  nonNegative('retryAfterSeconds', spec.retryAfterSeconds, true);
  nonNegative('times', spec.times, true);
  if (spec.times === 0) throw new TypeError('fault times must be at least 1');
  if (
    spec.status !== undefined &&
    !(Number.isInteger(spec.status) && spec.status >= 100 && spec.status <= 999)
  ) {
    throw new TypeError('fault status must be an integer 100-999');
  }
  if (spec.match?.method !== undefined && typeof spec.match.method !== 'string') {
    throw new TypeError('fault match.method must be a string');
  }
  const path = spec.match?.path;
  if (path !== undefined && typeof path !== 'string' && !(path instanceof RegExp)) {
    throw new TypeError('fault match.path must be a string or a RegExp');
  }
}
