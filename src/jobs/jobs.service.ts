import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { approvalCheckpoint, currentCall } from '../common/context/call-context.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ProxmoxGateway } from '../proxmox/proxmox.gateway.js';
import { isSecretKey } from '../security/redaction/redactor.js';
import type { ProxmoxClient } from '../proxmox/proxmox-client.js';
import { pvePath } from '../proxmox/pve-path.js';
import { isUpid } from '../proxmox/upid.js';
import type { JobDto, JobListDto } from './dto/job.dto.js';
import { JobEntity, type RetryRecipe } from './job.entity.js';
import { jobFailureMessage } from './job-errors.js';
import { toJobDto } from './job.mapper.js';
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
  ) {}

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
      metadata: spec.metadata ?? {},
      previousUpids: [],
      retryRecipe: secrets.length ? null : { kind: spec.recipeKind ?? spec.toolName, request: spec.request },
      retryUnavailableReason: secrets.length
        ? `the request carried secrets (${secrets.join(', ')}), which are never stored; run the tool again instead`
        : null,
      recipeKind: spec.recipeKind ?? spec.toolName,
      expectedTask: spec.expectedTask ?? null,
      createdBy: currentCall().principal?.name ?? null,
      leaseOwner: null,
      leaseExpiresAt: null,
    } satisfies JobEntity);

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
    await this.store.get(jobId);
    const { rows, total } = await this.store.listEvents(jobId, limit, offset);
    return {
      job_id: jobId,
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
    if (!job.upid || !job.node || !ACTIVE_STATUSES.includes(job.status)) return toJobDto(job);
    return toJobDto((await this.refresh(job, 0)).job);
  }

  /** Returns when the job is over or after the timeout, streaming progress and log lines to an MCP caller. */
  async waitFor(jobId: string, timeoutSeconds?: number): Promise<JobDto> {
    const call = currentCall();
    const seconds = Math.min(Math.max(timeoutSeconds ?? DEFAULT_WAIT_SECONDS, 1), MAX_WAIT_SECONDS);
    const deadline = Date.now() + seconds * 1000;
    let job = await this.store.get(jobId);
    let logLine = 0;
    let reported: number | null | undefined;
    for (;;) {
      if (job.upid && job.node && ACTIVE_STATUSES.includes(job.status)) {
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
