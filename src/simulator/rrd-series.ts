import type { SimGuest, SimNode } from './cluster-model.js';
import { Prng } from './prng.js';
import { guestMaxCpu, guestMaxMem } from './views.js';

/**
 * The RRD history PVE 9 keeps per node, guest and storage (pvestatd → rrdcached, formats pve-node-9.0,
 * pve-vm-9.0 and pve-storage-9.0), as GET …/rrddata answers it: 70 rows ending at the last full step, one per
 * step of the timeframe, averaged (cf=AVERAGE, the default) or the maximum of each step (cf=MAX).
 *
 * The values are deterministic per entity and time: a daily curve (quiet at night, busy in the afternoon), noise
 * from the seeded PRNG keyed by entity and step, and a slow drift per entity (memory that creeps up, a storage
 * that fills), around the entity's current figures, so /cluster/resources and the history agree roughly.
 */
export type RrdTimeframe = 'hour' | 'day' | 'week' | 'month' | 'year' | 'decade';
export type RrdCf = 'AVERAGE' | 'MAX';
export type RrdRow = Record<string, number>;

/** Seconds per row of each timeframe (rrddata picks the archive whose resolution fits 70 rows). */
export const RRD_STEP: Record<RrdTimeframe, number> = {
  hour: 60,
  day: 1800,
  week: 10800,
  month: 43200,
  year: 604800,
  decade: 6048000,
};
export const RRD_ROWS = 70;

const DAY = 86400;

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What one row's values are built from. */
interface Sample {
  time: number;
  /** 0..1 load of the daily curve (its mean over the step when the step is a day or longer). */
  wave: number;
  /** 0..1 noise of this entity at this step. */
  noise: number;
  /** 0..1 position in the window (oldest row 0, newest 1), for slow drifts. */
  position: number;
  max: boolean;
}

/** The rows of one entity: `value(sample)` gives the row's data sources (without `time`). */
function series(
  key: string,
  timeframe: RrdTimeframe,
  cf: RrdCf,
  nowMs: number,
  value: (s: Sample) => RrdRow,
): RrdRow[] {
  const step = RRD_STEP[timeframe] ?? 60;
  const end = Math.floor(nowMs / 1000 / step) * step;
  const seed = hash(key);
  const rows: RrdRow[] = [];
  for (let i = RRD_ROWS - 1; i >= 0; i--) {
    const time = end - i * step;
    const noise = new Prng((seed ^ Math.imul(Math.floor(time / step), 0x9e3779b1)) >>> 0).next();
    // busiest around 15:00 UTC, quietest around 03:00; a step of a day or more averages the curve out
    const daily = 0.5 + 0.5 * Math.sin(2 * Math.PI * ((time % DAY) / DAY) - (2 * Math.PI * 9) / 24);
    const max = cf === 'MAX';
    const wave = step >= DAY ? (max ? 1 : 0.5) : daily;
    const position = (RRD_ROWS - 1 - i) / (RRD_ROWS - 1);
    rows.push({ time, ...value({ time, wave, noise, position, max }) });
  }
  return rows;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
const clamp01 = (n: number): number => Math.min(1, Math.max(0, n));
/** The peak factor of a MAX row over an AVERAGE one. */
const peak = (s: Sample): number => (s.max ? 1.25 + 0.25 * s.noise : 1);

/** Per-entity constants: a drift direction and a busyness, from the entity's own seed. */
function traits(key: string): { drift: number; busy: number } {
  const rng = new Prng(hash(`traits/${key}`));
  return { drift: rng.pick([-1, 0, 0, 1, 1]), busy: 0.5 + rng.next() };
}

/** pve-node-9.0: loadavg, cpu, iowait, memory, swap, root filesystem, network, ARC, pressure (PSI, %). */
export function nodeRrd(
  node: SimNode,
  memUsedNow: number,
  timeframe: RrdTimeframe,
  cf: RrdCf,
  nowMs = Date.now(),
): RrdRow[] {
  const { busy } = traits(`node/${node.name}`);
  return series(`node/${node.name}`, timeframe, cf, nowMs, (s) => {
    const cpu = clamp01(
      Math.max(node.cpuLoad, 0.05) * (0.4 + 1.2 * s.wave) * (0.85 + 0.3 * s.noise) * peak(s),
    );
    const memused = Math.min(node.memTotal * 0.97, memUsedNow * (0.93 + 0.07 * s.wave) * (s.max ? 1.02 : 1));
    const net = 2e5 * busy * (0.3 + 1.4 * s.wave) * (0.7 + 0.6 * s.noise) * peak(s);
    return {
      loadavg: round(cpu * node.cpus * 1.1, 2),
      maxcpu: node.cpus,
      cpu: round(cpu, 6),
      iowait: round(cpu * 0.04 * (0.5 + s.noise), 6),
      memtotal: node.memTotal,
      memused: Math.round(memused),
      memavailable: Math.round(node.memTotal - memused),
      swaptotal: node.swapTotal,
      swapused: Math.round(node.swapTotal * 0.02 * (1 + s.noise)),
      roottotal: node.rootfsTotal,
      rootused: node.rootfsUsed,
      netin: round(net, 2),
      netout: round(net * 0.6, 2),
      arcsize: 0,
      pressurecpusome: round(Math.max(0, cpu - 0.3) * 20 * s.noise, 2),
      pressureiosome: round(cpu * 3 * s.noise, 2),
      pressureiofull: round(cpu * 1.5 * s.noise, 2),
      pressurememorysome: round(Math.max(0, memused / node.memTotal - 0.85) * 50 * s.noise, 2),
      pressurememoryfull: round(Math.max(0, memused / node.memTotal - 0.85) * 20 * s.noise, 2),
    };
  });
}

/**
 * pve-vm-9.0 (VMs and containers alike). A stopped guest's rows have zeros, as pvestatd writes for it; disk
 * and network rates (bytes/s) follow the guest's counters over its uptime.
 */
export function guestRrd(guest: SimGuest, timeframe: RrdTimeframe, cf: RrdCf, nowMs = Date.now()): RrdRow[] {
  const { drift } = traits(`guest/${guest.vmid}`);
  const maxmem = guestMaxMem(guest);
  const maxcpu = guestMaxCpu(guest);
  const running = guest.status === 'running';
  // the uptime at the window's end (not now), so every read within one step returns the same rows
  const step = RRD_STEP[timeframe] ?? 60;
  const uptime = Math.max(3600, Math.floor(nowMs / 1000 / step) * step - guest.startedAt);
  const rate = (counter: number) => counter / uptime;
  return series(`guest/${guest.vmid}`, timeframe, cf, nowMs, (s) => {
    const base = { maxcpu, maxmem, maxdisk: guest.diskBytes };
    if (!running) {
      return {
        ...base,
        cpu: 0,
        mem: 0,
        memhost: 0,
        disk: 0,
        netin: 0,
        netout: 0,
        diskread: 0,
        diskwrite: 0,
        pressurecpusome: 0,
        pressurecpufull: 0,
        pressureiosome: 0,
        pressureiofull: 0,
        pressurememorysome: 0,
        pressurememoryfull: 0,
      };
    }
    const cpu = clamp01(guest.cpuLoad * (0.4 + 1.2 * s.wave) * (0.85 + 0.3 * s.noise) * peak(s));
    const memFraction = clamp01(
      guest.memFraction * (0.92 + 0.08 * s.wave) * (1 + 0.15 * drift * (s.position - 1)) * (s.max ? 1.02 : 1),
    );
    const io = (0.3 + 1.4 * s.wave) * (0.6 + 0.8 * s.noise) * peak(s);
    return {
      ...base,
      cpu: round(cpu, 6),
      mem: Math.round(maxmem * memFraction),
      memhost: Math.round(maxmem * memFraction),
      disk: guest.type === 'lxc' ? Math.round(guest.diskBytes * 0.35) : 0,
      netin: round(rate(guest.counters.netin) * io, 2),
      netout: round(rate(guest.counters.netout) * io, 2),
      diskread: round(rate(guest.counters.diskread) * io, 2),
      diskwrite: round(rate(guest.counters.diskwrite) * io, 2),
      pressurecpusome: round(Math.max(0, cpu - 0.5) * 30 * s.noise, 2),
      pressurecpufull: round(Math.max(0, cpu - 0.5) * 10 * s.noise, 2),
      pressureiosome: round(io * 0.8 * s.noise, 2),
      pressureiofull: round(io * 0.3 * s.noise, 2),
      pressurememorysome: round(Math.max(0, memFraction - 0.8) * 40 * s.noise, 2),
      pressurememoryfull: round(Math.max(0, memFraction - 0.8) * 15 * s.noise, 2),
    };
  });
}

/** pve-storage-9.0: total and used bytes; used drifts towards today's figure. */
export function storageRrd(
  key: string,
  usage: { total: number; used: number },
  timeframe: RrdTimeframe,
  cf: RrdCf,
  nowMs = Date.now(),
): RrdRow[] {
  // a storage fills by about a quarter of its usage a year: visible over a year, flat over a day
  const span = Math.min(0.3, ((RRD_STEP[timeframe] ?? 60) * RRD_ROWS) / (4 * 365 * DAY));
  return series(`storage/${key}`, timeframe, cf, nowMs, (s) => ({
    total: usage.total,
    used: Math.round(
      Math.min(usage.total, usage.used * (1 - span * (1 - s.position)) * (1 + 0.002 * s.noise)),
    ),
  }));
}
