import { referenceJson } from '../common/format/reference-json.js';
import type { JobDto } from './dto/job.dto.js';
import type { JobEntity } from './job.entity.js';
import { RETRYABLE_STATUSES } from './job.types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Tools whose job creates a guest, and the metadata key that holds its ID. */
const CREATED_GUEST_KEY: Record<string, string> = {
  create_vm: 'vmid',
  create_container: 'vmid',
  clone_vm: 'target_vmid',
  clone_container: 'target_vmid',
  restore_backup: 'vmid',
};

/** The ID of the guest a create tool's job makes, at the top level where an agent looks for it. */
function createdVmid(job: JobEntity): number | undefined {
  const key = CREATED_GUEST_KEY[job.toolName];
  if (!key) return undefined;
  // a restore over an existing guest creates nothing new
  if (job.toolName === 'restore_backup' && job.metadata.overwrote_existing === true) return undefined;
  const vmid = Number(job.metadata[key]);
  return Number.isInteger(vmid) && vmid > 0 ? vmid : undefined;
}

/** The public job shape (the reference's fields plus target, exitstatus, warnings, retryable). */
export function toJobDto(job: JobEntity): JobDto {
  const recipeAvailable = job.retryRecipe !== null;
  const vmid = createdVmid(job);
  return {
    job_id: job.jobId,
    task_id: job.upid,
    upid: job.upid,
    status: job.status,
    tool_name: job.toolName,
    summary: job.summary,
    target: job.target,
    node: job.node,
    progress: job.progress,
    exitstatus: job.exitstatus,
    warnings: job.warnings,
    last_error: job.lastError,
    attempts: job.attempts,
    retry_count: job.retryCount,
    previous_upids: job.previousUpids,
    created_at: iso(job.createdAt)!,
    updated_at: iso(job.updatedAt)!,
    completed_at: iso(job.completedAt),
    retryable: recipeAvailable && RETRYABLE_STATUSES.includes(job.status),
    retry_spec: job.recipeKind
      ? {
          kind: job.recipeKind,
          available: recipeAvailable,
          ...(job.retryUnavailableReason ? { reason: job.retryUnavailableReason } : {}),
        }
      : null,
    ...(vmid !== undefined ? { vmid } : {}),
    metadata: job.metadata,
    result: job.result,
  };
}

/**
 * The short text MCP clients show for a job. `Task ID: <UPID>` and `Job ID: <id>` are the reference's lines, spelt
 * as its scripts parse them (`Task ID:\s*(\S+)`); `n/a` stands where there is no task (yet) or no job.
 */
export function jobText(job: JobDto): string {
  const lines = [
    `${job.summary}: ${job.status}${job.warnings ? ` (${job.warnings} warnings)` : ''}${
      job.progress !== null && job.status === 'running' ? ` ${job.progress}%` : ''
    }`,
    `Task ID: ${job.task_id ?? 'n/a'}`,
    `Job ID: ${job.job_id || 'n/a'}`,
  ];
  if (job.vmid !== undefined) lines.push(`Guest ID: ${job.vmid}`);
  if (job.last_error) lines.push(`Error: ${job.last_error}`);
  // create tools say where the new disk went and why (storage, format, whether it can take snapshots)
  if (typeof job.metadata?.storage_reason === 'string') lines.push(`Disk: ${job.metadata.storage_reason}`);
  if (job.wait_timed_out)
    lines.push('Still running after the wait timeout; follow it with wait_job or get_job.');
  else if (job.status === 'running') lines.push('Follow it with wait_job or get_job.');
  return lines.join('\n');
}

/** The job fields as the reference's job tools printed them (`json.dumps(job, indent=2, sort_keys=True)`). */
export const jobJson = (job: JobDto): string => referenceJson(job, true);

/**
 * get_job, poll_job, cancel_job, retry_job: the reference answered with the job as JSON, which scripts
 * `json.loads`; that comes first, the human summary (with the Task ID / Job ID lines) after it.
 */
export const jobJsonText = (job: JobDto): string[] => [jobJson(job), jobText(job)];
