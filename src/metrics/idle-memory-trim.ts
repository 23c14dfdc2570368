import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/** How often the event loop's utilisation is sampled, and how many quiet samples in a row mean "idle". */
const SAMPLE_MS = 1_000;
const QUIET_SAMPLES = 2;
/** Below this share of the loop busy over a sample, the server is doing nothing worth mentioning. */
const QUIET_UTILISATION = 0.02;
/** A young generation grown past this is worth giving back. */
const NEW_SPACE_WORTH_TRIMMING = 8 * 1024 * 1024;

type GcFunction = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: string;
}) => void;

/**
 * Gives memory back when the server goes quiet. V8 grows its young generation (new space) to match the allocation
 * rate, and on a large machine it grows to over 100 MB during start-up and under load, and keeps it: most of a
 * Node server's idle RSS (measured by `npm run bench`, docs/benchmarks.md). A memory-reducing ("last resort")
 * collection shrinks it back to about 1 MB. This runs one, once, each time the event loop has been quiet for a
 * few seconds after being busy, so it never competes with requests: after start-up, and after each burst of
 * load. `v8.setFlagsFromString('--expose-gc')` is the documented way to reach `gc` without a command-line flag.
 */
@Injectable()
export class IdleMemoryTrim implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('IdleMemoryTrim');
  private timer?: NodeJS.Timeout;
  private last = performance.eventLoopUtilization();
  private quiet = 0;
  private gc?: GcFunction;

  onApplicationBootstrap(): void {
    this.gc = exposeGc();
    if (!this.gc) return;
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
    if (busy >= QUIET_UTILISATION) {
      this.quiet = 0;
      return;
    }
    if (++this.quiet !== QUIET_SAMPLES || newSpaceBytes() < NEW_SPACE_WORTH_TRIMMING) return;
    const before = process.memoryUsage.rss();
    this.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.logger.debug(`idle: memory trimmed, RSS ${mb(before)} → ${mb(process.memoryUsage.rss())} MB`);
  }
}

function exposeGc(): GcFunction | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as GcFunction) : undefined;
  } catch {
    return undefined;
  }
}

function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

const mb = (bytes: number) => Math.round(bytes / 1_048_576);
