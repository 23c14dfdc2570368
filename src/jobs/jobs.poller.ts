import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ProxmoxGateway } from '../proxmox/proxmox.gateway.js';
import { pvePath } from '../proxmox/pve-path.js';
import { parseUpid } from '../proxmox/upid.js';
import type { JobEntity } from './job.entity.js';
import { watchKindOf } from './job-watchers.js';
import { JobsService } from './jobs.service.js';
import { JobsStore } from './jobs.store.js';
import { outcomeOf } from './task-status.js';

/** A task-list entry: `status` (the exit status text) appears only once the task has stopped. */
interface TaskListEntry {
  upid: string;
  status?: string;
  endtime?: number;
}

/** Individual status reads per node and round for jobs the task list did not show. */
const MAX_STRAGGLERS_PER_NODE = 20;
const MAX_LEASED_PER_ROUND = 10_000;

/**
 * Follows running jobs in the background: per round, ONE task-list request per node (`source=all` since the
 * oldest tracked task) settles every job on that node. Leases in the jobs table make each job the business of
 * one replica; a replica that dies (even kill -9) loses its leases when they expire and another takes over.
 * At start-up it also reconciles jobs a crash left without their UPID, without re-sending anything.
 */
@Injectable()
export class JobsPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('JobsPoller');
  private timer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly store: JobsStore,
    private readonly jobs: JobsService,
    private readonly gateway: ProxmoxGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get intervalMs(): number {
    return this.config.jobs.pollIntervalMs ?? 2000;
  }

  /** Renewed every round; a replica that stops renewing (crashed) loses its jobs to another after this. */
  get leaseMs(): number {
    return Math.max(5_000, this.intervalMs * 5);
  }

  onApplicationBootstrap(): void {
    if (this.config.jobs.pollIntervalMs === 0) return; // polling off (one-shot CLI commands)
    void this.prune();
    this.timer = setInterval(() => void this.pollOnce(), this.intervalMs);
    this.timer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), 3_600_000);
    this.pruneTimer.unref();
  }

  /** Before the database closes (TypeORM closes it on application shutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    await this.round?.catch(() => undefined);
    // hand the jobs over at once instead of after the lease expires
    await this.store.releaseLeases(this.owner).catch(() => undefined);
  }

  /** One polling round (also called by tests and the benchmark). Overlapping calls share the running round. */
  pollOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.runRound().finally(() => (this.round = undefined));
    return this.round;
  }

  private async runRound(): Promise<void> {
    await this.reconcileInterrupted().catch((e: unknown) =>
      this.logger.warn(`reconciling interrupted jobs failed: ${messageOf(e)}`),
    );
    let leased: JobEntity[];
    try {
      leased = await this.store.leaseActive(this.owner, this.leaseMs, MAX_LEASED_PER_ROUND);
    } catch (error) {
      this.logger.warn(`job store unavailable; polling paused this round: ${messageOf(error)}`);
      return;
    }
    // watched jobs (no task: job-watchers.ts) are asked one by one; the rest are settled per node
    const watched = leased.filter((job) => !job.upid && watchKindOf(job));
    await Promise.all(
      watched.map((job) =>
        this.jobs
          .watch(job, undefined, this.owner)
          .catch((e: unknown) => this.logger.warn(`watching job ${job.jobId} failed: ${messageOf(e)}`)),
      ),
    );
    const groups = new Map<string, JobEntity[]>();
    for (const job of leased.filter((j) => j.upid)) {
      const key = `${job.target}\u0000${job.node}`;
      groups.set(key, [...(groups.get(key) ?? []), job]);
    }
    await Promise.all([...groups.values()].map((group) => this.pollNode(group)));
  }

  private async pollNode(jobs: JobEntity[]): Promise<void> {
    const { target, node } = jobs[0] as { target: string; node: string };
    try {
      const client = this.gateway.client(target);
      const starts = jobs.map((j) => parseUpid(j.upid!)?.starttimeEpoch ?? Math.floor(j.createdAt / 1000));
      const { data } = await client.getWithTotal<TaskListEntry[]>(pvePath`/nodes/${node}/tasks`, {
        source: 'all',
        since: Math.min(...starts) - 1,
        limit: jobs.length + 500,
      });
      const byUpid = new Map(data.map((entry) => [entry.upid, entry]));
      const stragglers: JobEntity[] = [];
      for (const job of jobs) {
        const entry = byUpid.get(job.upid!);
        if (!entry) stragglers.push(job);
        else if (entry.status !== undefined) {
          const outcome = outcomeOf({ status: 'stopped', exitstatus: entry.status }, job.status);
          const progress = outcome.status === 'completed' ? 100 : job.progress;
          await this.jobs.applyOutcome(job, outcome, progress, { ...entry }, this.owner);
        }
      }
      // not in the list (too many other tasks since, or the list lags): ask for those few directly
      for (const job of stragglers.slice(0, MAX_STRAGGLERS_PER_NODE)) {
        await this.jobs.refresh(job, 0).catch((e: unknown) => this.noteFailure(job, e));
      }
    } catch (error) {
      // node offline or PVE unreachable: the jobs stay running and are looked at again next round
      this.logger.warn(`polling ${jobs.length} job(s) on ${target}/${node} failed: ${messageOf(error)}`);
    }
  }

  private async noteFailure(job: JobEntity, error: unknown): Promise<void> {
    // PVE says the task does not exist on that node (node reinstalled, log rotated): nothing left to follow
    if (/no such task|unable to parse worker upid/i.test(messageOf(error))) {
      await this.store.update(
        job.jobId,
        { status: ['running', 'cancel_requested'], upid: job.upid },
        { status: 'unknown', lastError: `Proxmox no longer knows task ${job.upid}`, leaseOwner: null },
        { event: 'task_lost', details: { upid: job.upid } },
      );
    }
  }

  /** Jobs a crash left `pending`/`retrying` are resolved by JobsService.resolveInterrupted (never re-sent). */
  async reconcileInterrupted(): Promise<void> {
    for (const job of await this.store.findInterrupted(this.jobs.interruptedAfterMs)) {
      try {
        await this.jobs.resolveInterrupted(job, this.owner);
      } catch (error) {
        this.logger.warn(`could not reconcile job ${job.jobId}: ${messageOf(error)}`);
      }
    }
  }

  private async prune(): Promise<void> {
    try {
      await this.store.prune(this.config.jobs.retentionDays ?? 30, this.config.jobs.maxEventsPerJob ?? 200);
    } catch (error) {
      this.logger.warn(`pruning old jobs failed: ${messageOf(error)}`);
    }
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
