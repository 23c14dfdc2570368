import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SimSize } from './sim-handle.js';

export type MeasurementId =
  'inventory' | 'throughput' | 'overhead' | 'poller' | 'stdio' | 'safety' | 'modules';
export const MEASUREMENTS: MeasurementId[] = [
  'inventory',
  'throughput',
  'overhead',
  'poller',
  'stdio',
  'safety',
  'modules',
];

/** The inventory tools of measurement (1); list_isos/list_backups may not be registered on every build. */
export const INVENTORY_TOOLS = ['get_vms', 'get_containers', 'get_storage', 'list_isos', 'list_backups'];

export interface BenchSizes {
  inventory: { clusters: SimSize[]; calls: number; warmup: number };
  /** (2) and (6): the read tool and its REST route on one cluster, closed-loop load per concurrency level. */
  throughput: {
    cluster: SimSize;
    concurrency: number[];
    runs: number;
    durationMs: number;
    warmupMs: number;
    settleMs: number;
    /** How long the server idles after the load before "RSS idle again" is sampled (the target says 30 s). */
    afterLoadMs: number;
    /** Runs of each RSS floor (a bare node, node with the dependency packages); the median is printed. */
    floorRuns: number;
  };
  overhead: { cluster: SimSize; calls: number };
  poller: { nodes: number; jobs: number; rounds: number };
  stdio: { cluster: SimSize; runs: number };
  /** (7) approval-gated calls timed server-side (request + approve + consume). */
  safety: { calls: number };
  /** Notes: fresh node processes importing one package each, `runs` times. */
  modules: { runs: number };
}

export const FULL: BenchSizes = {
  inventory: {
    clusters: [
      { nodes: 3, guests: 100 },
      { nodes: 32, guests: 100 },
      { nodes: 3, guests: 5000 },
      { nodes: 32, guests: 5000 },
    ],
    calls: 100,
    warmup: 5,
  },
  throughput: {
    cluster: { nodes: 3, guests: 100 },
    concurrency: [1, 4, 16],
    runs: 3,
    durationMs: 5000,
    warmupMs: 1000,
    settleMs: 3000,
    afterLoadMs: 30_000,
    floorRuns: 3,
  },
  overhead: { cluster: { nodes: 3, guests: 100 }, calls: 300 },
  poller: { nodes: 32, jobs: 1000, rounds: 10 },
  stdio: { cluster: { nodes: 3, guests: 100 }, runs: 10 },
  safety: { calls: 200 },
  modules: { runs: 3 },
};

/** Every measurement, briefly: checks the harness works (figures are indicative only). */
export const QUICK: BenchSizes = {
  inventory: {
    clusters: [
      { nodes: 3, guests: 100 },
      { nodes: 32, guests: 5000 },
    ],
    calls: 10,
    warmup: 2,
  },
  throughput: {
    cluster: { nodes: 3, guests: 100 },
    concurrency: [1, 4, 16],
    runs: 1,
    durationMs: 1000,
    warmupMs: 300,
    settleMs: 1000,
    afterLoadMs: 5000,
    floorRuns: 1,
  },
  overhead: { cluster: { nodes: 3, guests: 100 }, calls: 30 },
  poller: { nodes: 32, jobs: 200, rounds: 3 },
  stdio: { cluster: { nodes: 3, guests: 100 }, runs: 2 },
  safety: { calls: 30 },
  modules: { runs: 1 },
};

/**
 * The PVE schema the simulator checks every request against: PVE_API_SCHEMA, else the workspace copy, else none
 * (a fresh clone without it runs unchecked and says so in the report header).
 */
export function defaultSchemaPath(): string | null {
  const candidate = process.env.PVE_API_SCHEMA ?? resolve('../shared/pve-api/apidoc.json');
  return existsSync(candidate) ? candidate : null;
}

export const clusterName = (s: SimSize): string =>
  `${s.nodes} nodes/${s.guests.toLocaleString('en-US')} guests`;
