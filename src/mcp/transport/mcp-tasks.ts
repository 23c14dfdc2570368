import {
  CLIENT_CAPABILITIES_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type ServerContext,
  type StandardSchemaV1,
} from '@modelcontextprotocol/server';
import { toolErrorText } from '../../common/errors/mcp-error.mapper.js';
import type { DomainError } from '../../common/errors/domain-error.js';
import { redactText } from '../../common/redaction/redactor.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { jobFailed } from '../../jobs/job-failed.js';
import { jobText } from '../../jobs/job.mapper.js';
import { JOB_STATUSES, type JobStatus } from '../../jobs/job.types.js';

/**
 * The MCP Tasks extension (`io.modelcontextprotocol/tasks`, protocol 2026-07-28) over our durable jobs: a job IS
 * the task. A tool that returns a job answers a client that declared the extension with a task handle
 * (`resultType: "task"`, the job id as `taskId`); `tasks/get` reads the job and `tasks/cancel` stops its PVE task,
 * both through the get_job / cancel_job tools, so the same guards, scopes, rate limits and audit apply. The job
 * store (SQLite, or PostgreSQL shared by replicas) is the task store: a task outlives the process and any replica
 * answers for it.
 */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'cancelled' | 'failed';

export interface TaskTiming {
  /** How long a finished job (task) is kept: jobs.retention_days. */
  ttlMs: number;
  /** How often a client should poll: the job poller's period. */
  pollIntervalMs: number;
}

/** Did this request's client declare the extension (2026-07-28 `_meta` envelope)? Never true on a 2025 request. */
export function clientAcceptsTasks(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as
    { extensions?: Record<string, unknown> } | undefined;
  const declared = capabilities?.extensions?.[TASKS_EXTENSION];
  return typeof declared === 'object' && declared !== null;
}

/** A tool result that is one job (every mutating tool's answer), as opposed to a listing or a per-guest batch. */
export function jobOf(structured: Record<string, unknown>): JobDto | undefined {
  const { job_id, status, tool_name } = structured;
  return typeof job_id === 'string' &&
    typeof tool_name === 'string' &&
    (JOB_STATUSES as readonly unknown[]).includes(status)
    ? (structured as unknown as JobDto)
    : undefined;
}

const TASK_STATUS: Record<JobStatus, TaskStatus> = {
  pending: 'working',
  running: 'working',
  retrying: 'working',
  cancel_requested: 'working',
  // a submission whose outcome is uncertain is still being worked out (reconcile_job); not an end
  unknown: 'working',
  completed: 'completed',
  // the tool ran and the PVE task failed: a tool error result, not a JSON-RPC failure (spec: `completed`)
  failed: 'completed',
  cancelled: 'cancelled',
};

/** The job as the extension's Task: its status, message, times and, once it has ended, the tool result. */
export function taskOf(job: JobDto, timing: TaskTiming): Record<string, unknown> & { status: TaskStatus } {
  const status = TASK_STATUS[job.status];
  const task: Record<string, unknown> & { status: TaskStatus } = {
    taskId: job.job_id,
    status,
    statusMessage: statusMessage(job),
    createdAt: job.created_at,
    lastUpdatedAt: job.updated_at,
    ttlMs: timing.ttlMs,
    pollIntervalMs: timing.pollIntervalMs,
  };
  if (status === 'completed') task.result = resultOf(job);
  return task;
}

/** The answer to tools/call when the job becomes a task: the seed state, `resultType: "task"`. */
export function createTaskResult(job: JobDto, timing: TaskTiming): CallToolResult {
  const { result: _result, ...seed } = taskOf(job, timing);
  return { resultType: 'task', ...seed } as unknown as CallToolResult;
}

function statusMessage(job: JobDto): string {
  const base = jobText(job).split('\n')[0];
  if (job.status === 'unknown')
    return `${base}: whether Proxmox started the task is not known yet (reconcile_job)`;
  return job.last_error && job.status !== 'completed' ? `${base}: ${job.last_error}` : base;
}

/** What the tool would have answered with wait: true: the job, or JOB_FAILED with the job attached. */
function resultOf(job: JobDto): CallToolResult {
  const structured = job as unknown as Record<string, unknown>;
  if (job.status === 'failed') {
    const error = jobFailed(job, structured);
    return {
      content: [{ type: 'text', text: redactText(toolErrorText(error)) }],
      structuredContent: structured,
      isError: true,
    };
  }
  return { content: [{ type: 'text', text: jobText(job) }], structuredContent: structured };
}

/** tasks/get and tasks/cancel take `{ taskId }`; anything else is -32602 naming the field. */
export const TASK_ID_PARAMS: StandardSchemaV1<unknown, { taskId: string }> = {
  '~standard': {
    version: 1,
    vendor: 'proxmox-mcp-plus',
    validate: (params) => {
      const taskId = (params as { taskId?: unknown } | undefined)?.taskId;
      if (typeof taskId !== 'string' || taskId === '') {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `params.taskId must be the task id (a job id) as a string, got ${taskId === undefined ? 'nothing' : JSON.stringify(taskId)?.slice(0, 60)}`,
        );
      }
      return { value: { taskId } };
    },
  },
};

/** A refused get_job / cancel_job as the JSON-RPC error of tasks/get / tasks/cancel. */
export function taskError(taskId: string, error: DomainError): ProtocolError {
  const text = redactText(toolErrorText(error));
  if (error.code === 'NOT_FOUND' || error.code === 'VALIDATION') {
    return new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Unknown task '${taskId.slice(0, 80)}': ${text}`,
    );
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, text);
}
