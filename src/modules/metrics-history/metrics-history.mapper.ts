import type { MetricDto } from './dto/metrics-history.dto.js';

/** One row of GET …/rrddata: `time` plus PVE's data sources; a source without data is absent (or null). */
export type PveRrdRow = Record<string, number | string | null | undefined>;

type Unit = 'percent' | 'bytes' | 'bytes/s' | 'load';

/** How one metric is read from a row. `optional` metrics are listed only when PVE reported them. */
interface MetricDef {
  name: string;
  unit: Unit;
  read: (row: PveRrdRow) => number | undefined;
  optional?: boolean;
}

/** Decimals kept per unit (values, avg, min, max, last, change); the slope keeps two more. */
const DIGITS: Record<Unit, number> = { percent: 2, bytes: 0, 'bytes/s': 1, load: 2 };

/** A finite number from an RRD field (PVE sends numbers; a string or null is tolerated). */
export function field(row: PveRrdRow, key: string): number | undefined {
  const raw = row[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

const scaled = (key: string, factor: number) => (row: PveRrdRow) => {
  const v = field(row, key);
  return v === undefined ? undefined : v * factor;
};
const ratio = (part: string, whole: string) => (row: PveRrdRow) => {
  const p = field(row, part);
  const w = field(row, whole);
  return p === undefined || !w ? undefined : (p / w) * 100;
};
const plain = (key: string) => (row: PveRrdRow) => field(row, key);

const pressure = (resource: 'cpu' | 'io' | 'memory', kind: 'some' | 'full'): MetricDef => ({
  name: `pressure_${resource}_${kind}`,
  unit: 'percent',
  read: plain(`pressure${resource}${kind}`),
  optional: true,
});

/** pve-node-9.0 (and older node formats: the PVE 9 fields are then absent and not listed). */
export const NODE_METRICS: MetricDef[] = [
  { name: 'cpu', unit: 'percent', read: scaled('cpu', 100) },
  { name: 'iowait', unit: 'percent', read: scaled('iowait', 100), optional: true },
  { name: 'loadavg', unit: 'load', read: plain('loadavg'), optional: true },
  { name: 'mem_used', unit: 'bytes', read: plain('memused') },
  { name: 'mem_total', unit: 'bytes', read: plain('memtotal') },
  { name: 'mem_percent', unit: 'percent', read: ratio('memused', 'memtotal') },
  { name: 'swap_used', unit: 'bytes', read: plain('swapused'), optional: true },
  { name: 'net_in', unit: 'bytes/s', read: plain('netin') },
  { name: 'net_out', unit: 'bytes/s', read: plain('netout') },
  pressure('cpu', 'some'),
  pressure('io', 'some'),
  pressure('io', 'full'),
  pressure('memory', 'some'),
  pressure('memory', 'full'),
];

/** pve-vm-9.0, for VMs and containers alike. */
export const GUEST_METRICS: MetricDef[] = [
  { name: 'cpu', unit: 'percent', read: scaled('cpu', 100) },
  { name: 'mem_used', unit: 'bytes', read: plain('mem') },
  { name: 'mem_total', unit: 'bytes', read: plain('maxmem') },
  { name: 'mem_percent', unit: 'percent', read: ratio('mem', 'maxmem') },
  { name: 'disk_read', unit: 'bytes/s', read: plain('diskread') },
  { name: 'disk_write', unit: 'bytes/s', read: plain('diskwrite') },
  { name: 'net_in', unit: 'bytes/s', read: plain('netin') },
  { name: 'net_out', unit: 'bytes/s', read: plain('netout') },
  pressure('cpu', 'some'),
  pressure('cpu', 'full'),
  pressure('io', 'some'),
  pressure('io', 'full'),
  pressure('memory', 'some'),
  pressure('memory', 'full'),
];

export const STORAGE_METRICS: MetricDef[] = [
  { name: 'used', unit: 'bytes', read: plain('used') },
  { name: 'total', unit: 'bytes', read: plain('total') },
  { name: 'used_percent', unit: 'percent', read: ratio('used', 'total') },
];

export const roundTo = (n: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export interface Summary {
  points: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  first: number | null;
  last: number | null;
  change: number | null;
  /** Least-squares slope per hour. */
  slopePerHour: number | null;
  trend: 'rising' | 'falling' | 'flat';
}

/** A line that moves by less than this share of the largest absolute point over the window is flat. */
export const FLAT_SHARE = 0.05;

/** avg/min/max/first/last, the least-squares slope per hour and the trend of the points that have a value. */
export function summarize(times: number[], values: Array<number | undefined>): Summary {
  const ts: number[] = [];
  const vs: number[] = [];
  values.forEach((v, i) => {
    if (v !== undefined) {
      ts.push(times[i]);
      vs.push(v);
    }
  });
  const n = vs.length;
  if (n === 0) {
    return {
      points: 0,
      avg: null,
      min: null,
      max: null,
      first: null,
      last: null,
      change: null,
      slopePerHour: null,
      trend: 'flat',
    };
  }
  const avg = vs.reduce((a, b) => a + b, 0) / n;
  let slope: number | null = null;
  let trend: Summary['trend'] = 'flat';
  if (n >= 2) {
    const tMean = ts.reduce((a, b) => a + b, 0) / n;
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      num += (ts[i] - tMean) * (vs[i] - avg);
      den += (ts[i] - tMean) ** 2;
    }
    const perSecond = den > 0 ? num / den : 0;
    slope = perSecond * 3600;
    const movement = perSecond * (ts[n - 1] - ts[0]);
    const scale = Math.max(...vs.map(Math.abs));
    if (scale > 0 && Math.abs(movement) >= FLAT_SHARE * scale) trend = movement > 0 ? 'rising' : 'falling';
  }
  return {
    points: n,
    avg,
    min: Math.min(...vs),
    max: Math.max(...vs),
    first: vs[0],
    last: vs[n - 1],
    change: vs[n - 1] - vs[0],
    slopePerHour: slope,
    trend,
  };
}

const rounded = (v: number | null, digits: number): number | null => (v === null ? null : roundTo(v, digits));

/** The timestamps and one MetricDto per metric (optional ones only when some row has them). */
export function toMetrics(
  rows: PveRrdRow[],
  defs: MetricDef[],
  includeSeries: boolean,
): { timestamps: number[]; metrics: MetricDto[] } {
  const sorted = rows
    .filter((r) => field(r, 'time') !== undefined)
    .sort((a, b) => (field(a, 'time') ?? 0) - (field(b, 'time') ?? 0));
  const timestamps = sorted.map((r) => field(r, 'time') ?? 0);
  const metrics: MetricDto[] = [];
  for (const def of defs) {
    const values = sorted.map(def.read);
    if (def.optional && values.every((v) => v === undefined)) continue;
    const digits = DIGITS[def.unit];
    const s = summarize(timestamps, values);
    metrics.push({
      name: def.name,
      unit: def.unit,
      points: s.points,
      avg: rounded(s.avg, digits),
      min: rounded(s.min, digits),
      max: rounded(s.max, digits),
      last: rounded(s.last, digits),
      change: rounded(s.change, digits),
      slope_per_hour: rounded(s.slopePerHour, digits + 2),
      trend: s.trend,
      ...(includeSeries ? { values: values.map((v) => (v === undefined ? null : roundTo(v, digits))) } : {}),
    });
  }
  return { timestamps, metrics };
}
