import { Injectable } from '@nestjs/common';
import type { JobEntity } from './job.entity.js';

/** What a watcher makes of a watched job's work right now. */
export interface WatchVerdict {
  status: 'running' | 'completed' | 'failed';
  /** 0-100, or null when unknown. */
  progress: number | null;
  /** Why it failed (status `failed`). */
  error?: string;
  /** What the job ends with (status `completed` or `failed`): where the guest is, the task that did the work, … */
  result?: Record<string, unknown>;
}

/**
 * Follows a watched job: reads what PVE does on its own after a request that returned no task (the HA manager
 * migrating a guest) and says whether it is still going on, done or failed. Stateless: it gets the job row.
 */
export type JobWatcher = (job: Readonly<JobEntity>, signal?: AbortSignal) => Promise<WatchVerdict>;

/** The metadata key naming a job's watcher (set by JobsService.track from `TrackSpec.watch`). */
export const WATCH_KEY = 'watch';

/** The watcher kind of a job, if it is a watched job. */
export const watchKindOf = (job: Pick<JobEntity, 'metadata'>): string | undefined => {
  const kind = job.metadata?.[WATCH_KEY];
  return typeof kind === 'string' ? kind : undefined;
};

/**
 * The watchers of the domains, by kind. A domain registers its own at module init (the jobs layer knows no
 * domain); a job whose watcher is not registered stays running until one is.
 */
@Injectable()
export class JobWatchers {
  private readonly watchers = new Map<string, JobWatcher>();

  register(kind: string, watcher: JobWatcher): void {
    if (this.watchers.has(kind)) throw new Error(`job watcher '${kind}' is registered twice`);
    this.watchers.set(kind, watcher);
  }

  get(kind: string): JobWatcher | undefined {
    return this.watchers.get(kind);
  }
}
