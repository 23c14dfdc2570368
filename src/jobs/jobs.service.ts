import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { approvalCheckpoint, currentCall } from '../common/context/call-context.js';
import { currentPlan, planned } from '../common/plan/plan-mode.js';
import { DomainError } from '../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ProxmoxGateway } from '../proxmox/proxmox.gateway.js';
import { isSecretKey } from '../common/redaction/redactor.js';
import type { ProxmoxClient } from '../proxmox/proxmox-client.js';
import { pvePath } from '../proxmox/pve-path.js';
import { isUpid, parseUpid } from '../proxmox/upid.js';
import type { JobDto, JobListDto } from './dto/job.dto.js';
import { JobEntity, type RetryRecipe } from './job.entity.js';
import { JobWatchers, WATCH_KEY, watchKindOf } from './job-watchers.js';
import { jobFailureMessage } from './job-errors.js';
import { toJobDto } from './job.mapper.js';
import { plannedJob } from './job-plan.js';
import {
  ACTIVE_STATUSES,
  RETRYABLE_STATUSES,
  TERMINAL_STATUSES,
  type JobStatus,
  type PveMutation,
  type TrackSpec,
  type WaitRequest,
} from './job.types.js';
import { JobsStore, type JobListFilter } from './jobs.store.js';
import { readTaskLog } from './task-log.js';
import { outcomeOf, progressFromLog, type TaskState } from './task-status.js';

export const DEFAULT_WAIT_SECONDS = 120;
export const MAX_WAIT_SECONDS = 900;
/** How often a waiting caller re-reads the task (PVE's own UI polls once a second). */
const WAIT_POLL_MS = 1000;

interface TaskStatusPayload extends TaskState {
  upid?: string;
}

/** A task-list entry: `status` (the exit status text) appears only once the task has stopped. */
interface TaskListEntry {
  upid: string;
  status?: string;
  endtime?: number;
}

/** Statuses a job with an uncertain submission can be in (see JobsService.reconcile). */
const UNCERTAIN_STATUSES: readonly JobStatus[] = ['pending', 'retrying', 'unknown'];

/** Who resolves an uncertain submission: the poller after a restart, or an operator (reconcile_job). */
interface Resolver {
  kind: 'server_restart' | 'operator';
  /** The poller's replica id, or the caller's API key name. */
  by: string;
}

/**
 * Jobs: every UPID-returning mutation is recorded before it is sent, followed until its task ends, and can be
 * waited on, cancelled (DELETE on the task) and retried (the stored request replayed). The background poller
 * (jobs.poller.ts) follows jobs nobody waits for.
 */
@Injectable()
export class JobsService {
  private readonly logger = new Logger('JobsService');

  constructor(
    private readonly store: JobsStore,
    private readonly gateway: ProxmoxGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly watchers: JobWatchers,
  ) {}

  /**
   * A job still `pending`/`retrying` this long after its last change was interrupted: no request can still be in
   * flight once the per-call deadline toward PVE has passed.
   */
  get interruptedAfterMs(): number {
    return Math.max(...this.config.targets.map((t) => t.timeoutMs), 1000) + 5_000;
  }

  /** Records the job, then sends the mutation; with `wait`, returns once the task ended or the wait timed out. */
  async track(spec: TrackSpec, wait: WaitRequest = {}): Promise<JobDto> {
    const target = this.gateway.targetConfig(spec.target);
    const client = this.gateway.client(target.name);
    // the tool's declared secrets, and anything the redactor would hide (a recipe must never hold either)
    const params = spec.request.params ?? {};
    const secrets = Object.keys(params).filter(
      (key) => params[key] !== undefined && ((spec.secretParams ?? []).includes(key) || isSecretKey(key)),
    );
    const now = Date.now();
    const job = Object.assign(new JobEntity(), {
      jobId: randomUUID(),
      target: target.name,
      toolName: spec.toolName,
      summary: spec.summary,
      node: spec.node,
      upid: null,
      status: 'pending',
      progress: null,
      exitstatus: null,
      warnings: null,
      attempts: 1,
      retryCount: 0,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
      result: null,
      metadata: { ...spec.metadata, ...(spec.watch ? { [WATCH_KEY]: spec.watch } : {}) },
      previousUpids: [],
      retryRecipe:
        secrets.length || spec.watch
          ? null
          : { kind: spec.recipeKind ?? spec.toolName, request: spec.request },
      retryUnavailableReason: secrets.length
        ? `the request carried secrets (${secrets.join(', ')}), which are never stored; run the tool again instead`
        : spec.watch
          ? 'the request started no Proxmox task (a watched job); run the tool again instead'
          : null,
      recipeKind: spec.recipeKind ?? spec.toolName,
      expectedTask: spec.expectedTask ?? null,
      createdBy: currentCall().principal?.name ?? null,
      leaseOwner: null,
      leaseExpiresAt: null,
    } satisfies JobEntity);

    // a dry run records the request (the client does) and stores no job
    if (currentPlan()) return plannedJob(job, await send(client, spec.request));
    // a gated call is approved (or refused) before its job exists: a refused call leaves no job behind
    await approvalCheckpoint();
    try {
      await this.store.insert(job, {
        event: 'created',
        details: {
          metadata: job.metadata,
          request: { method: spec.request.method, path: spec.request.path },
        },
      });
    } catch (error) {
      this.logger.error(`job store write failed; ${spec.toolName} was not sent: ${messageOf(error)}`);
      throw new DomainError(
        'STORE_UNAVAILABLE',
        `The job could not be recorded, so ${spec.toolName} was not sent to Proxmox`,
        { cause: error },
      );
    }

    let reply: unknown;
    try {
      reply = await send(client, spec.request);
    } catch (error) {
      await this.store
        .update(
          job.jobId,
          { status: ['pending'] },
          { status: 'failed', lastError: jobFailureMessage(error), completedAt: Date.now() },
          { event: 'submit_failed', details: { error: jobFailureMessage(error) } },
        )
        .catch((e: unknown) =>
          this.logger.error(`could not record the failure of job ${job.jobId}: ${messageOf(e)}`),
        );
      throw error;
    }

    try {
      if (isUpid(reply)) {
        await this.store.update(
          job.jobId,
          { status: ['pending'] },
          { upid: reply, status: 'running' },
          { event: 'submitted', details: { upid: reply } },
        );
      } else if (spec.watch) {
        // no task: PVE does the work on its own (the HA manager); the watcher follows it
        await this.store.update(
          job.jobId,
          { status: ['pending'] },
          { status: 'running', result: { data: reply ?? null } },
          { event: 'submitted', details: { watch: spec.watch } },
        );
      } else {
        // a few PVE calls finish synchronously and return no task: the job is done at once
        await this.store.update(
          job.jobId,
          { status: ['pending'] },
          { status: 'completed', progress: 100, completedAt: Date.now(), result: { data: reply ?? null } },
          { event: 'completed', details: { synchronous: true } },
        );
      }
    } catch (error) {
      // PVE has the task; start-up reconciliation will find it by type and time. Tell the caller its UPID now.
      this.logger.error(
        `job ${job.jobId}: task ${String(reply)} started but not recorded: ${messageOf(error)}`,
      );
      return { ...toJobDto(job), upid: isUpid(reply) ? reply : null, task_id: isUpid(reply) ? reply : null };
    }
    if (wait.wait) return this.waitFor(job.jobId, wait.timeoutSeconds);
    return this.get(job.jobId);
  }

  async get(jobId: string): Promise<JobDto> {
    return toJobDto(await this.store.get(jobId));
  }

  /** The job row, for callers that need more than the DTO (e.g. approval checks on retry_job). */
  entity(jobId: string): Promise<JobEntity> {
    return this.store.get(jobId);
  }

  async list(filter: JobListFilter): Promise<JobListDto> {
    const { rows, total } = await this.store.list(filter);
    return {
      jobs: rows.map(toJobDto),
      total,
      limit: filter.limit,
      offset: filter.offset,
      truncated: filter.offset + rows.length < total,
    };
  }

  async events(jobId: string, limit: number, offset: number) {
    const job = await this.store.get(jobId);
    const { rows, total } = await this.store.listEvents(job.jobId, limit, offset);
    return {
      job_id: job.jobId,
      events: rows.map((e) => ({
        timestamp: new Date(e.at).toISOString(),
        event: e.event,
        details: e.details,
      })),
      total,
      limit,
      offset,
      truncated: offset + rows.length < total,
    };
  }

  /** Reads the task's status and its whole log now (poll_job, get_job refresh). */
  async poll(jobId: string): Promise<JobDto> {
    const job = await this.store.get(jobId);
    if (!job.upid && watchKindOf(job) && ACTIVE_STATUSES.includes(job.status)) {
      return toJobDto(await this.watch(job));
    }
    if (!job.upid || !job.node || !ACTIVE_STATUSES.includes(job.status)) return toJobDto(job);
    return toJobDto((await this.refresh(job, 0)).job);
  }

  /** Returns when the job is over or after the timeout, streaming progress and log lines to an MCP caller. */
  async waitFor(jobId: string, timeoutSeconds?: number): Promise<JobDto> {
    const call = currentCall();
    const seconds = Math.min(Math.max(timeoutSeconds ?? DEFAULT_WAIT_SECONDS, 1), MAX_WAIT_SECONDS);
    const deadline = Date.now() + seconds * 1000;
    const planJob = currentPlan()?.jobs.get(jobId);
    if (planJob) return planJob as JobDto;
    let job = await this.store.get(jobId);
    let logLine = 0;
    let reported: number | null | undefined;
    for (;;) {
      if (!job.upid && watchKindOf(job) && ACTIVE_STATUSES.includes(job.status)) {
        job = await this.watch(job, call.signal);
        if (call.progress && job.progress !== reported && job.progress !== null) {
          reported = job.progress;
          call.progress({ progress: job.progress, total: 100, message: job.summary });
        }
      } else if (job.upid && job.node && ACTIVE_STATUSES.includes(job.status)) {
        const refreshed = await this.refresh(job, logLine, call.signal);
        job = refreshed.job;
        logLine = refreshed.next;
        for (const line of refreshed.lines) call.log?.('info', `task ${job.upid}`, line);
        if (call.progress && job.progress !== reported && job.progress !== null) {
          reported = job.progress;
          call.progress({
            progress: job.progress,
            total: 100,
            message: refreshed.lines.at(-1) ?? job.summary,
          });
        }
      }
      // pending (crash recovery decides), unknown and the terminal states end the wait; retrying is followed
      if (job.status !== 'retrying' && !ACTIVE_STATUSES.includes(job.status)) return toJobDto(job);
      const remaining = deadline - Date.now();
      if (remaining <= 0 || call.signal?.aborted) return { ...toJobDto(job), wait_timed_out: true };
      try {
        await sleep(Math.min(WAIT_POLL_MS, remaining), undefined, { signal: call.signal });
      } catch {
        return { ...toJobDto(job), wait_timed_out: true };
      }
      if (job.status === 'retrying') job = await this.store.get(jobId);
    }
  }

  /** Stops the task (PVE `DELETE /nodes/{node}/tasks/{upid}`); the job ends `cancelled` once the task stopped. */
  async cancel(jobId: string): Promise<JobDto> {
    const job = await this.store.get(jobId);
    if (!job.upid || !job.node) {
      throw new DomainError(
        'CONFLICT',
        `Job ${jobId} has no Proxmox task to cancel (status '${job.status}')`,
      );
    }
    if (!ACTIVE_STATUSES.includes(job.status)) {
      throw new DomainError(
        'CONFLICT',
        `Job ${jobId} cannot be cancelled while status is '${job.status}': only running jobs can be cancelled`,
        { details: { status: job.status } },
      );
    }
    const client = this.gateway.client(job.target);
    await client.delete(pvePath`/nodes/${job.node}/tasks/${job.upid}`);
    planned('UPDATE', `server:/jobs/${jobId}`, { status: 'cancel_requested' });
    const changed = await this.store.update(
      jobId,
      { status: ACTIVE_STATUSES, upid: job.upid },
      { status: 'cancel_requested' },
      { event: 'cancel_requested', details: { upid: job.upid } },
    );
    const current = await this.store.get(jobId);
    if (!changed) {
      await this.store.addEvent(jobId, {
        event: 'cancel_discarded',
        details: { upid: job.upid, current_upid: current.upid, current_status: current.status },
      });
      return toJobDto(current);
    }
    // PVE stops the worker before answering (up to 5 s), so the task has usually ended already
    return toJobDto((await this.refresh(current, 0)).job);
  }

  /** Replays the stored request as a new attempt; only one concurrent retry wins (atomic claim). */
  async retry(jobId: string): Promise<JobDto> {
    const job = await this.store.get(jobId);
    if (!RETRYABLE_STATUSES.includes(job.status)) {
      throw new DomainError(
        'CONFLICT',
        `Job ${jobId} cannot be retried while status is '${job.status}'. Only failed or cancelled jobs can be retried; ` +
          'get_job with refresh shows the current state.',
        { details: { status: job.status } },
      );
    }
    const recipe: RetryRecipe | null = job.retryRecipe;
    if (!recipe) {
      throw new DomainError(
        'CONFLICT',
        `Job ${jobId} does not support retry: ${job.retryUnavailableReason ?? 'it has no retry recipe'}`,
      );
    }
    planned('UPDATE', `server:/jobs/${jobId}`, {
      status: 'retrying',
      replays: `${recipe.request.method} ${recipe.request.path}`,
    });
    await approvalCheckpoint();
    const claimed = await this.store.update(
      jobId,
      { status: RETRYABLE_STATUSES, upid: job.upid },
      { status: 'retrying', leaseOwner: null, leaseExpiresAt: null },
      { event: 'retry_started', details: { previous_status: job.status, upid: job.upid } },
    );
    if (!claimed) {
      throw new DomainError(
        'CONFLICT',
        `Job ${jobId} is already being retried or has changed; get_job shows it`,
      );
    }
    let reply: unknown;
    try {
      reply = await send(this.gateway.client(job.target), recipe.request);
      if (!isUpid(reply))
        throw new DomainError('UPSTREAM_PROTOCOL', 'Proxmox did not return a task id (UPID)');
    } catch (error) {
      await this.store.update(
        jobId,
        { status: ['retrying'] },
        { status: job.status, lastError: jobFailureMessage(error) },
        { event: 'retry_failed', details: { error: jobFailureMessage(error).slice(0, 500) } },
      );
      throw error;
    }
    await this.store.update(
      jobId,
      { status: ['retrying'] },
      {
        upid: reply,
        status: 'running',
        progress: 0,
        exitstatus: null,
        warnings: null,
        lastError: null,
        completedAt: null,
        result: null,
        attempts: job.attempts + 1,
        retryCount: job.retryCount + 1,
        previousUpids: job.upid ? [...job.previousUpids, job.upid] : job.previousUpids,
      },
      { event: 'retried', details: { new_upid: reply, previous_upid: job.upid } },
    );
    return this.get(jobId);
  }

  /**
   * Reads the task's status and its log from line `from`, and records what changed. The write is conditional
   * on the UPID and an active status, so a retry or cancel that happened meanwhile is never overwritten.
   */
  async refresh(
    job: JobEntity,
    from: number,
    signal?: AbortSignal,
  ): Promise<{ job: JobEntity; lines: string[]; next: number }> {
    const { upid, node } = job as { upid: string; node: string };
    const client = this.gateway.client(job.target);
    const task = await client.get<TaskStatusPayload>(
      pvePath`/nodes/${node}/tasks/${upid}/status`,
      undefined,
      {
        signal,
      },
    );
    const log = await readTaskLog(client, node, upid, from, { signal });
    const outcome = outcomeOf(task, job.status);
    const progress =
      outcome.status === 'completed'
        ? 100
        : (progressFromLog(log.lines) ?? (from === 0 ? null : job.progress));
    const updated = await this.applyOutcome(
      job,
      outcome,
      progress,
      task as unknown as Record<string, unknown>,
    );
    return { job: updated, lines: log.lines, next: log.next };
  }

  /**
   * Asks a watched job's watcher (job-watchers.ts) how its work is going and records the answer; the write is
   * conditional on the job still being active without a task. A watcher not registered leaves the job as it is.
   */
  async watch(job: JobEntity, signal?: AbortSignal, by?: string): Promise<JobEntity> {
    const watcher = this.watchers.get(watchKindOf(job) ?? '');
    if (!watcher) return job;
    const verdict = await watcher(job, signal);
    const terminal = verdict.status !== 'running';
    if (!terminal && verdict.progress === job.progress) return job;
    const set: Partial<JobEntity> = {
      status: verdict.status,
      progress: verdict.status === 'completed' ? 100 : verdict.progress,
      ...(terminal
        ? {
            lastError: verdict.error ?? null,
            completedAt: Date.now(),
            result: { ...job.result, ...verdict.result },
            leaseOwner: null,
            leaseExpiresAt: null,
          }
        : {}),
    };
    const changed = await this.store.update(
      job.jobId,
      { status: ACTIVE_STATUSES, upid: null },
      set,
      terminal
        ? {
            event: 'polled',
            details: {
              status: verdict.status,
              ...(verdict.error ? { error: verdict.error } : {}),
              ...(by ? { by } : {}),
            },
          }
        : undefined,
    );
    if (terminal && changed) this.gateway.changed(job.target);
    if (changed) return Object.assign(new JobEntity(), job, set);
    return this.store.get(job.jobId);
  }

  /** Records a task's state on the job if anything changed; returns the row as it now is. */
  async applyOutcome(
    job: JobEntity,
    outcome: ReturnType<typeof outcomeOf>,
    progress: number | null,
    result: Record<string, unknown> | null,
    /** Who noticed (the poller's replica id), kept in the audit event. */
    by?: string,
  ): Promise<JobEntity> {
    const statusChanged = outcome.status !== job.status;
    if (!statusChanged && progress === job.progress && !outcome.terminal) return job;
    const set: Partial<JobEntity> = {
      status: outcome.status,
      progress,
      ...(outcome.terminal
        ? {
            exitstatus: outcome.exitstatus,
            warnings: outcome.warnings,
            lastError: outcome.lastError,
            completedAt: Date.now(),
            result,
            leaseOwner: null,
            leaseExpiresAt: null,
          }
        : {}),
    };
    const changed = await this.store.update(
      job.jobId,
      { status: ACTIVE_STATUSES, upid: job.upid },
      set,
      // progress-only changes are not audit events: the history stays bounded
      statusChanged
        ? {
            event: 'polled',
            details: {
              status: outcome.status,
              progress,
              exitstatus: outcome.exitstatus,
              ...(by ? { by } : {}),
            },
          }
        : undefined,
    );
    // the task's effect (a guest started, a disk moved) is in PVE now: cached inventory of the target is stale
    if (outcome.terminal && changed) this.gateway.changed(job.target);
    if (changed) return Object.assign(new JobEntity(), job, set);
    return this.store.get(job.jobId);
  }

  /**
   * J1/J2 of security-and-faults.md, at start-up (the poller): a job left `pending` (new) or `retrying` after its
   * request could still be in flight was interrupted by a crash. Look for its task on the node (type, guest id,
   * start time, our token's user); adopt exactly one match, mark the attempt failed when there is none, and leave
   * it `unknown` for an operator (reconcile_job) when unsure. Never re-send: a duplicate create or delete is worse
   * than a question.
   */
  async resolveInterrupted(job: JobEntity, by: string): Promise<void> {
    const resolver: Resolver = { kind: 'server_restart', by };
    const retrying = job.status === 'retrying';
    const since = Math.floor((retrying ? job.updatedAt : job.createdAt) / 1000) - 2;
    const when = { status: [job.status], upid: job.upid };
    if (!job.node || !job.expectedTask) {
      await this.store.update(
        job.jobId,
        when,
        {
          status: 'unknown',
          lastError:
            'The server stopped before Proxmox acknowledged this request; check the node task list, then resolve it with reconcile_job',
        },
        resolutionEvent(resolver, retrying, since, {}),
      );
      return;
    }
    const candidates = await this.submissionCandidates(job, since);
    if (candidates.length === 1) {
      await this.adopt(job, when, candidates[0], retrying, resolutionEvent(resolver, retrying, since, {}));
      return;
    }
    await this.store.update(
      job.jobId,
      when,
      candidates.length === 0
        ? {
            status: 'failed',
            completedAt: Date.now(),
            lastError: `The server stopped before the ${retrying ? 'retry' : 'request'} reached Proxmox (no matching task on the node); nothing was re-sent`,
          }
        : {
            status: 'unknown',
            lastError: `The server stopped mid-request and ${candidates.length} matching tasks exist; check them, then choose one with reconcile_job (upid)`,
          },
      resolutionEvent(resolver, retrying, since, {
        outcome: candidates.length === 0 ? 'not_sent' : 'ambiguous',
        candidates,
      }),
    );
  }

  /**
   * reconcile_job: an operator resolves a job whose submission is uncertain, i.e. `unknown` after an interrupted
   * request, or `pending`/`retrying` left behind by a server that stopped mid-request (start-up reconciliation
   * could not reach the node). With `upid`, that task is verified (it exists on the job's node, is of the job's
   * task type and guest, started after the request, by this target's token user) and adopted; without it, the
   * node's task list is searched like at start-up: exactly one match is adopted, none marks the job failed (its
   * request never reached Proxmox), several are listed so the operator can pick one. Nothing is ever re-sent.
   */
  async reconcile(jobId: string, upid?: string): Promise<JobDto> {
    const job = await this.store.get(jobId);
    const context = await this.uncertainty(job);
    const resolver: Resolver = { kind: 'operator', by: currentCall().principal?.name ?? 'anonymous' };
    const when = { status: [job.status], upid: job.upid };
    const { retrying, since } = context;
    let chosen = upid;
    if (chosen !== undefined) {
      await this.verifyTask(job, context.node, chosen, since);
    } else {
      const candidates = await this.submissionCandidates(job, since);
      if (candidates.length > 1) {
        throw new DomainError(
          'CONFLICT',
          `Job ${jobId}: ${candidates.length} tasks on node ${job.node} could be the one its request started: ${candidates.join(', ')}`,
          {
            hint: 'get_task_log shows what each did; call reconcile_job again with upid set to the right one.',
            details: { candidates },
          },
        );
      }
      chosen = candidates[0];
    }
    // the job row changes below without any PVE request: a gated reconcile settles its approval here
    planned('UPDATE', `server:/jobs/${jobId}`, { reconcile: chosen ?? 'not_submitted' });
    await approvalCheckpoint();
    if (chosen === undefined) {
      const changed = await this.store.update(
        jobId,
        when,
        {
          status: 'failed',
          completedAt: Date.now(),
          lastError: `Reconciled by ${resolver.by}: no task for this ${retrying ? 'retry' : 'request'} exists on node ${job.node} since ${new Date(since * 1000).toISOString()}, so it never reached Proxmox; nothing was re-sent`,
        },
        resolutionEvent(resolver, retrying, since, { outcome: 'not_sent', candidates: [] }),
      );
      if (!changed) throw changedMeanwhile(jobId);
      return this.get(jobId);
    }
    const adopted = await this.adopt(
      job,
      when,
      chosen,
      retrying,
      resolutionEvent(resolver, retrying, since, upid ? { chosen_by: 'operator' } : {}),
    );
    if (!adopted) throw changedMeanwhile(jobId);
    // the adopted task may have ended long ago: read its state now
    return this.poll(jobId);
  }

  /** Refuses jobs whose submission is certain, naming their state; returns how to search for the task. */
  private async uncertainty(job: JobEntity): Promise<{ node: string; retrying: boolean; since: number }> {
    const refuse = (why: string) =>
      new DomainError('CONFLICT', `Job ${job.jobId} is '${job.status}': ${why}`, {
        hint:
          "reconcile_job resolves only jobs whose submission is uncertain: status 'unknown' after an interrupted request, " +
          "or 'pending'/'retrying' left by a server that stopped mid-request. get_job shows the job.",
        details: { status: job.status },
      });
    if (!job.node) {
      throw new DomainError('CONFLICT', `Job ${job.jobId} names no node, so its task cannot be looked for`, {
        hint: 'list_tasks on the node that ran it shows what happened; retry_job or run the tool again.',
      });
    }
    if (!UNCERTAIN_STATUSES.includes(job.status)) {
      throw refuse(
        job.upid
          ? `its request reached Proxmox (task ${job.upid}), so there is nothing to reconcile`
          : 'there is nothing to reconcile',
      );
    }
    if (job.status !== 'unknown') {
      const age = Date.now() - job.updatedAt;
      if (age < this.interruptedAfterMs) {
        throw new DomainError(
          'CONFLICT',
          `Job ${job.jobId} is '${job.status}': its request may still be in flight (last change ${Math.round(age / 1000)} s ago)`,
          {
            hint: `Wait ${Math.ceil((this.interruptedAfterMs - age) / 1000)} s: a request still in flight then has timed out, and get_job shows whether it was recorded.`,
            details: { status: job.status },
          },
        );
      }
      const retrying = job.status === 'retrying';
      return {
        node: job.node,
        retrying,
        since: Math.floor((retrying ? job.updatedAt : job.createdAt) / 1000) - 2,
      };
    }
    // `unknown`: only when an interrupted request left it so (not a task Proxmox forgot after it was recorded)
    const first = await this.store.listEvents(job.jobId, 1, 0);
    const last =
      first.total > 1 ? (await this.store.listEvents(job.jobId, 1, first.total - 1)).rows[0] : first.rows[0];
    const details = (last?.details ?? {}) as { during?: string; since?: number };
    if (last?.event !== 'interrupted') {
      throw refuse(
        `its request reached Proxmox (task ${job.upid ?? 'unknown'}) and only the task's outcome is unknown` +
          `${job.lastError ? ` (${job.lastError})` : ''}; there is no submission to reconcile`,
      );
    }
    const retrying = details.during === 'retry';
    return {
      node: job.node,
      retrying,
      since:
        typeof details.since === 'number'
          ? details.since
          : Math.floor((retrying ? job.updatedAt : job.createdAt) / 1000) - 2,
    };
  }

  /** Tasks on the job's node that its interrupted request may have started (not the job's own earlier ones). */
  private async submissionCandidates(job: JobEntity, since: number): Promise<string[]> {
    if (!job.node) return [];
    const client = this.gateway.client(job.target);
    const expected = job.expectedTask;
    const { data } = await client.getWithTotal<TaskListEntry[]>(pvePath`/nodes/${job.node}/tasks`, {
      source: 'all',
      since,
      ...(expected ? { typefilter: expected.type } : {}),
      ...(expected?.id && /^\d+$/.test(expected.id) ? { vmid: Number(expected.id) } : {}),
      limit: 50,
    });
    return data.filter((t) => this.mayBeOurs(job, t.upid, since) === undefined).map((t) => t.upid);
  }

  /** Why a task cannot be the one this job's request started; undefined when it can. */
  private mayBeOurs(job: JobEntity, upid: string, since: number): string | undefined {
    const parsed = parseUpid(upid);
    if (!parsed) return 'it is not a valid UPID';
    if (upid === job.upid || job.previousUpids.includes(upid)) {
      return 'it is an earlier attempt of this job';
    }
    if (job.node && parsed.node !== job.node)
      return `it ran on node ${parsed.node}, the job is for node ${job.node}`;
    const expected = job.expectedTask;
    if (expected && parsed.type !== expected.type) {
      return `it is a '${parsed.type}' task; this job starts '${expected.type}' tasks`;
    }
    if (expected?.id !== undefined && parsed.id !== expected.id) {
      return `it is for '${parsed.id}'; this job's task is for '${expected.id}'`;
    }
    if (parsed.starttimeEpoch < since) {
      return `it started at ${parsed.starttime.toISOString()}, before this job's request (${new Date(since * 1000).toISOString()})`;
    }
    const tokenUser = this.gateway.targetConfig(job.target).user;
    if (!parsed.user.startsWith(tokenUser)) {
      return `it was started by ${parsed.user}, not by this server's token user ${tokenUser}`;
    }
    return undefined;
  }

  /** An operator-named task must be able to be the job's, and exist on the node. */
  private async verifyTask(job: JobEntity, node: string, upid: string, since: number): Promise<void> {
    const why = this.mayBeOurs(job, upid, since);
    if (why) {
      throw new DomainError('VALIDATION', `upid cannot be the task of job ${job.jobId}: ${why}`, {
        hint: 'list_tasks on the job node shows its tasks; reconcile_job without upid searches them for you.',
      });
    }
    try {
      await this.gateway.client(job.target).get(pvePath`/nodes/${node}/tasks/${upid}/status`);
    } catch (error) {
      if (/no such task|unable to parse worker upid/i.test(messageOf(error))) {
        throw new DomainError('NOT_FOUND', `Task ${upid} does not exist on node ${node}`, {
          hint: 'list_tasks shows the tasks Proxmox still knows.',
        });
      }
      throw error;
    }
  }

  /** Attaches the task to the job (a new attempt when it was a retry); false when the job changed meanwhile. */
  private adopt(
    job: JobEntity,
    when: { status: JobStatus[]; upid: string | null },
    upid: string,
    retrying: boolean,
    event: { event: string; details: Record<string, unknown> },
  ): Promise<boolean> {
    return this.store.update(
      job.jobId,
      when,
      {
        upid,
        status: 'running',
        ...(retrying && job.upid
          ? {
              attempts: job.attempts + 1,
              retryCount: job.retryCount + 1,
              previousUpids: [...job.previousUpids, job.upid],
              progress: 0,
              exitstatus: null,
              warnings: null,
              lastError: null,
              completedAt: null,
              result: null,
            }
          : { lastError: null, completedAt: null }),
      },
      { event: event.event, details: { ...event.details, upid, outcome: 'adopted' } },
    );
  }

  isTerminal(status: JobStatus): boolean {
    return TERMINAL_STATUSES.includes(status);
  }
}

function send(client: ProxmoxClient, request: PveMutation): Promise<unknown> {
  switch (request.method) {
    case 'POST':
      return client.post<unknown>(request.path, request.params);
    case 'PUT':
      return client.put<unknown>(request.path, request.params);
    case 'DELETE':
      return client.delete<unknown>(request.path, request.params);
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The audit event of a resolved submission: `interrupted` (start-up) or `reconciled` (an operator). */
function resolutionEvent(
  resolver: Resolver,
  retrying: boolean,
  since: number,
  details: Record<string, unknown>,
): { event: string; details: Record<string, unknown> } {
  return {
    event: resolver.kind === 'operator' ? 'reconciled' : 'interrupted',
    details: {
      ...(resolver.kind === 'server_restart' ? { reason: 'server_restart' } : {}),
      during: retrying ? 'retry' : 'submit',
      by: resolver.by,
      since,
      ...details,
    },
  };
}

const changedMeanwhile = (jobId: string) =>
  new DomainError('CONFLICT', `Job ${jobId} changed while it was being reconciled; get_job shows it now`);
