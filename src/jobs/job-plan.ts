import { currentPlan } from '../common/plan/plan-mode.js';
import type { JobDto } from './dto/job.dto.js';
import type { JobEntity } from './job.entity.js';
import { toJobDto } from './job.mapper.js';
import { isUpid } from '../proxmox/upid.js';

/**
 * The job a dry run would have started: never stored, answered as completed with the placeholder UPID, and kept in
 * the plan so a later wait on it returns at once (JobsService.waitFor).
 */
export function plannedJob(job: JobEntity, reply: unknown): JobDto {
  const upid = isUpid(reply) ? reply : null;
  const dto: JobDto = { ...toJobDto(job), status: 'completed', progress: 100, upid, task_id: upid };
  currentPlan()?.jobs.set(job.jobId, dto);
  return dto;
}
