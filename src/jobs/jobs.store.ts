import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Brackets, In, LessThan, type DataSource, type EntityManager, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { redactText, redactValue } from '../common/redaction/redactor.js';
import { JobEntity, JobEventEntity } from './job.entity.js';
import { ACTIVE_STATUSES, type JobStatus } from './job.types.js';
import { ChangeFeed } from './change-feed.js';

export interface JobEventInput {
  event: string;
  details?: Record<string, unknown>;
}

export interface JobListFilter {
  status?: JobStatus;
  toolName?: string;
  target?: string;
  limit: number;
  offset: number;
}

/** A conditional update: it applies only while the row still matches `when` (the caller's view of it). */
export interface JobCondition {
  status?: readonly JobStatus[];
  upid?: string | null;
}

/**
 * All job persistence. Every state change is one conditional UPDATE whose WHERE clause carries what the caller
 * believed (status, UPID), so concurrent pollers, waiters, cancels and retries — in this process or another
 * replica — cannot overwrite each other; `changed === false` tells the loser. Events are appended alongside.
 */
@Injectable()
export class JobsStore {
  /** better-sqlite3 is one connection: TypeORM transactions on it must not interleave. */
  private sqliteQueue: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectRepository(JobEventEntity) private readonly events: Repository<JobEventEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly feed: ChangeFeed,
  ) {}

  async insert(job: JobEntity, event: JobEventInput): Promise<void> {
    await this.transaction(async (m) => {
      await m.insert(JobEntity, row({ ...job, ...redactedFields(job) }));
      await m.insert(JobEventEntity, row(this.eventRow(job.jobId, event, job.createdAt)));
    });
    this.feed.publishJob({ job_id: job.jobId, status: job.status });
  }

  async find(jobId: string): Promise<JobEntity | null> {
    // job ids are UUIDs: anything else is simply not a job (never sent to the database as is)
    if (!JOB_ID_RE.test(jobId)) return null;
    return this.jobs.findOneBy({ jobId: jobId.toLowerCase() });
  }

  async get(jobId: string): Promise<JobEntity> {
    const job = await this.find(jobId);
    if (!job) {
      // the reference's message text (scripts compare it); which id and what to do are in the hint
      throw new DomainError('NOT_FOUND', 'Job was not found', {
        hint: `No job has job_id ${JSON.stringify(jobId.slice(0, 64))}; list_jobs shows the jobs this server tracks (old jobs are pruned after the retention period).`,
      });
    }
    return job;
  }

  async list(filter: JobListFilter): Promise<{ rows: JobEntity[]; total: number }> {
    const where = {
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.toolName ? { toolName: filter.toolName } : {}),
      ...(filter.target ? { target: filter.target } : {}),
    };
    const [rows, total] = await this.jobs.findAndCount({
      where,
      order: { createdAt: 'DESC', jobId: 'ASC' },
      take: filter.limit,
      skip: filter.offset,
    });
    return { rows, total };
  }

  /** Applies `set` if the row still matches `when`; appends `event` when it did. */
  async update(
    jobId: string,
    when: JobCondition,
    set: Partial<JobEntity>,
    event?: JobEventInput,
  ): Promise<boolean> {
    const now = Date.now();
    const changed = await this.transaction(async (m) => {
      const qb = m
        .createQueryBuilder()
        .update(JobEntity)
        .set(row<JobEntity>({ ...set, ...redactedFields(set), updatedAt: now }))
        .where('job_id = :jobId', { jobId });
      if (when.status) qb.andWhere('status IN (:...statuses)', { statuses: [...when.status] });
      if (when.upid === null) qb.andWhere('upid IS NULL');
      else if (when.upid !== undefined) qb.andWhere('upid = :upid', { upid: when.upid });
      const result = await qb.execute();
      const applied = (result.affected ?? 0) === 1;
      if (applied && event) await m.insert(JobEventEntity, row(this.eventRow(jobId, event, now)));
      return applied;
    });
    // committed: subscribers (subscriptions/listen, any replica) read the job now and see this change
    if (changed && set.status) this.feed.publishJob({ job_id: jobId, status: set.status });
    return changed;
  }

  async addEvent(jobId: string, event: JobEventInput): Promise<void> {
    await this.events.insert(row(this.eventRow(jobId, event, Date.now())));
  }

  async listEvents(
    jobId: string,
    limit: number,
    offset: number,
  ): Promise<{ rows: JobEventEntity[]; total: number }> {
    const [rows, total] = await this.events.findAndCount({
      where: { jobId },
      order: { id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { rows, total };
  }

  /**
   * Claims (or renews) the lease on every active job that no live replica owns, then returns this owner's
   * active jobs. One UPDATE: on PostgreSQL a concurrent claimer re-checks the WHERE clause after the row lock,
   * on SQLite writers are serialised, so a job is never leased to two owners.
   */
  async leaseActive(owner: string, leaseMs: number, max: number): Promise<JobEntity[]> {
    const now = Date.now();
    const candidates = this.jobs
      .createQueryBuilder('j')
      .select('j.job_id')
      .where('j.status IN (:...active)')
      // a job follows its task (UPID), or is watched (job-watchers.ts: no task, the metadata names the watcher)
      .andWhere(new Brackets((b) => b.where('j.upid IS NOT NULL').orWhere('j.metadata_json LIKE :watched')))
      .andWhere(
        new Brackets((b) =>
          b
            .where('j.lease_owner IS NULL')
            .orWhere('j.lease_owner = :owner')
            .orWhere('j.lease_expires_at < :now'),
        ),
      )
      .orderBy('j.created_at', 'ASC')
      .limit(max);
    await this.transaction((m) =>
      m
        .createQueryBuilder()
        .update(JobEntity)
        .set({ leaseOwner: owner, leaseExpiresAt: now + leaseMs })
        .where(`job_id IN (${candidates.getQuery()})`)
        // re-checked per row at update time: another replica's fresh lease wins
        .andWhere(
          new Brackets((b) =>
            b.where('lease_owner IS NULL').orWhere('lease_owner = :owner').orWhere('lease_expires_at < :now'),
          ),
        )
        .setParameters({ active: [...ACTIVE_STATUSES], owner, now, watched: '%"watch":"%' })
        .execute(),
    );
    return this.jobs.find({
      where: { leaseOwner: owner, status: In([...ACTIVE_STATUSES]) },
      order: { createdAt: 'ASC' },
    });
  }

  /** Gives this owner's leases back (graceful shutdown) so another replica takes over at once. */
  async releaseLeases(owner: string): Promise<void> {
    await this.jobs.update({ leaseOwner: owner }, { leaseOwner: null, leaseExpiresAt: null });
  }

  /** Jobs whose submit or retry has not finished this long after their last change (a crash interrupted it). */
  async findInterrupted(olderThanMs: number): Promise<JobEntity[]> {
    return this.jobs.find({
      where: { status: In(['pending', 'retrying']), updatedAt: LessThan(Date.now() - olderThanMs) },
      order: { createdAt: 'ASC' },
      take: 100,
    });
  }

  /** Deletes finished jobs older than the retention period and caps every job's event history. */
  async prune(retentionDays: number, maxEventsPerJob: number): Promise<{ jobs: number; events: number }> {
    const cutoff = Date.now() - retentionDays * 86_400_000;
    return this.transaction(async (m) => {
      const old = m
        .createQueryBuilder()
        .select('job_id')
        .from(JobEntity, 'j')
        .where('j.created_at < :cutoff')
        .andWhere('j.status IN (:...terminal)');
      const params = { cutoff, terminal: ['completed', 'failed', 'cancelled'] };
      const events = await m
        .createQueryBuilder()
        .delete()
        .from(JobEventEntity)
        .where(`job_id IN (${old.getQuery()})`)
        .setParameters(params)
        .execute();
      const jobs = await m
        .createQueryBuilder()
        .delete()
        .from(JobEntity)
        .where('created_at < :cutoff')
        .andWhere('status IN (:...terminal)')
        .setParameters(params)
        .execute();
      // keep the newest maxEventsPerJob events of each job (the first one, `created`, always survives)
      const capped: unknown = await m.query(
        `DELETE FROM job_events WHERE event <> 'created' AND id IN (
           SELECT id FROM (
             SELECT id, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY id DESC) AS rn FROM job_events
           ) ranked WHERE rn > ${Math.max(1, Math.floor(maxEventsPerJob))}
         )`,
      );
      return {
        jobs: jobs.affected ?? 0,
        events: (events.affected ?? 0) + affectedOf(capped),
      };
    });
  }

  get engine(): 'sqlite' | 'postgres' {
    return this.dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  private lastHealth?: { at: number; value: Promise<{ ok: boolean; engine: string; detail?: string }> };

  /** The database answers (readiness); a quick integrity check on SQLite. Cached for 15 s: probes are frequent. */
  health(): Promise<{ ok: boolean; engine: string; detail?: string }> {
    if (!this.lastHealth || Date.now() - this.lastHealth.at > 15_000) {
      this.lastHealth = { at: Date.now(), value: this.checkHealth() };
    }
    return this.lastHealth.value;
  }

  private async checkHealth(): Promise<{ ok: boolean; engine: string; detail?: string }> {
    try {
      if (this.engine === 'sqlite') {
        const rows = await this.dataSource.query<Array<Record<string, string>>>('PRAGMA quick_check');
        const verdict = Object.values(rows[0] ?? {})[0];
        return verdict === 'ok'
          ? { ok: true, engine: 'sqlite' }
          : { ok: false, engine: 'sqlite', detail: `integrity check: ${verdict}` };
      }
      await this.dataSource.query('SELECT 1');
      return { ok: true, engine: 'postgres' };
    } catch (error) {
      return {
        ok: false,
        engine: this.engine,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }

  private eventRow(jobId: string, event: JobEventInput, at: number): Partial<JobEventEntity> {
    return { jobId, at, event: event.event, details: redactValue(event.details ?? {}) };
  }

  private transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    if (this.engine === 'postgres') return this.dataSource.transaction(work);
    const run = this.sqliteQueue.then(() => this.dataSource.transaction(work));
    this.sqliteQueue = run.catch(() => undefined);
    return run;
  }

  /** Exposed for the poller and the service's configuration reads. */
  get jobsConfig(): AppConfig['jobs'] {
    return this.config.jobs;
  }
}

/**
 * Job rows and events pass the one redactor on their way in (metadata, PVE payloads, error texts), so a secret a
 * tool or PVE put there never reaches the database. The retry recipe is not touched: it is only stored when the
 * request carried no secret at all (JobsService decides).
 */
function redactedFields(job: Partial<JobEntity>): Partial<JobEntity> {
  return {
    ...(job.metadata !== undefined ? { metadata: redactValue(job.metadata) } : {}),
    ...(job.result !== undefined && job.result !== null ? { result: redactValue(job.result) } : {}),
    ...(typeof job.lastError === 'string' ? { lastError: redactText(job.lastError) } : {}),
    ...(typeof job.summary === 'string' ? { summary: redactText(job.summary) } : {}),
  };
}

/** TypeORM's deep-partial type cannot see through JSON columns typed as records; the shapes are ours. */
/** A job id as this server makes them (randomUUID). */
const JOB_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const row = <T>(value: Partial<T>) => value as QueryDeepPartialEntity<T>;

/** `DELETE` via query(): better-sqlite3 reports `{changes}`, pg `[rows, count]`. */
function affectedOf(result: unknown): number {
  if (Array.isArray(result) && typeof result[1] === 'number') return result[1];
  if (result && typeof result === 'object' && 'changes' in result) return Number(result.changes);
  return 0;
}
