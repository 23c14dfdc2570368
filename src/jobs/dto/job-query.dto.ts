import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { IsBooleanFlag, IsIntParam, IsVmid } from '../../common/validation/proxmox.validators.js';
import { UPID_RE } from '../../proxmox/upid.js';
import { JOB_STATUSES, type JobStatus } from '../job.types.js';

export class JobIdParamDto {
  // any id is looked up: one that is not a job (whatever its format) is 404 "Job was not found", as in the reference
  @IsString()
  @Length(1, 200)
  @JSONSchema({ description: 'The job id a mutating tool returned (job_id, a UUID)' })
  job_id: string;
}

export class ListJobsQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(JOB_STATUSES)
  @JSONSchema({ description: 'Only jobs in this status' })
  status?: JobStatus;

  @IsOptional()
  @Matches(/^[a-z][a-z0-9_]{0,63}$/)
  @JSONSchema({ description: 'Only jobs created by this tool, e.g. start_vm' })
  tool_name?: string;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(500)
  @JSONSchema({ description: 'At most this many jobs, newest first (1-500, default 100)' })
  limit?: number;

  @IsOptional()
  @IsIntParam()
  @Min(0)
  @JSONSchema({ description: 'Skip this many jobs (paging)' })
  offset?: number;
}

export class GetJobQueryDto {
  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({ description: 'Ask Proxmox for the task state first (same as poll_job). Default false' })
  refresh?: boolean;
}

export class WaitJobBodyDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(900)
  @JSONSchema({
    description: 'Longest wait in seconds (1-900, default 120); the job keeps running afterwards',
  })
  timeout_seconds?: number;
}

export class ReconcileJobBodyDto {
  @IsOptional()
  @IsString()
  @Matches(UPID_RE, {
    message:
      'upid must be a Proxmox task id such as UPID:pve1:0002A001:00B3C2D1:6753A1B2:qmstart:100:root@pam:',
  })
  @JSONSchema({
    description:
      "The task the job's request started, when you know it (list_tasks on the job's node). It is checked (node, task type, " +
      'guest, start time, token user) and adopted. Without it the node task list is searched: one match is adopted, none marks the job failed.',
  })
  upid?: string;
}

export class PageQueryDto {
  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(500)
  @JSONSchema({ description: 'At most this many entries (1-500, default 100)' })
  limit?: number;

  @IsOptional()
  @IsIntParam()
  @Min(0)
  @JSONSchema({ description: 'Skip this many entries (paging)' })
  offset?: number;
}

export class TaskParamDto {
  @Matches(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/)
  @JSONSchema({ description: 'Node that ran the task (the UPID names it)' })
  node: string;

  @Matches(UPID_RE)
  @JSONSchema({ description: 'Proxmox task id, e.g. UPID:pve1:0002A001:...:qmstart:100:root@pam:' })
  upid: string;
}

export class TaskLogQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIntParam()
  @Min(0)
  @JSONSchema({ description: 'First line to return, 0-based (default 0)' })
  start?: number;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(5000)
  @JSONSchema({ description: 'At most this many lines (1-5000, default 500)' })
  limit?: number;
}

export const TASK_SOURCES = ['archive', 'active', 'all'] as const;

export class ListTasksQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsIn(TASK_SOURCES)
  @JSONSchema({ description: 'Finished (archive, default), running (active) or all tasks' })
  source?: (typeof TASK_SOURCES)[number];

  @IsOptional()
  @IsVmid()
  @JSONSchema({ description: 'Only tasks of this VM/container' })
  vmid?: number;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,31}$/)
  @JSONSchema({ description: 'Only tasks of this type, e.g. qmstart, vzdump' })
  typefilter?: string;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({ description: 'Only failed tasks' })
  errors?: boolean;

  @IsOptional()
  @IsIntParam()
  @Min(0)
  @JSONSchema({ description: 'Only tasks started at or after this Unix time' })
  since?: number;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(500)
  @JSONSchema({ description: 'At most this many tasks, newest first (1-500, default 50)' })
  limit?: number;

  @IsOptional()
  @IsIntParam()
  @Min(0)
  @JSONSchema({ description: 'Skip this many tasks (paging)' })
  start?: number;
}
