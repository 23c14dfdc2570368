import { DomainError } from '../common/errors/domain-error.js';
import type { JobDto } from './dto/job.dto.js';

/**
 * JOB_FAILED for a job whose PVE task failed, with the job attached: the tool's error when it waited
 * (JobOutcomeInterceptor) and a task's failed result (the MCP Tasks extension). Its own file so the stdio fast start
 * can load the task mapping without Nest.
 */
export function jobFailed(job: JobDto, structured: Record<string, unknown>): DomainError {
  return new DomainError(
    'JOB_FAILED',
    `${job.summary}: the Proxmox task failed${job.last_error ? `: ${job.last_error}` : ''} (job ${job.job_id})`,
    {
      hint:
        'Nothing more will happen for this job. Read last_error (get_job shows the task log), fix the cause, then ' +
        'call the tool again or retry_job with this job_id.',
      details: { job_id: job.job_id, task_id: job.task_id, job },
      structured,
    },
  );
}
