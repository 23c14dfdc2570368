import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { JOB_STATUSES, type JobStatus } from '../job.types.js';

/** The job every mutating tool returns, and what the job tools and /jobs routes show. */
export class JobDto {
  @IsString()
  @JSONSchema({ description: 'Job id (UUID); use with get_job, wait_job, cancel_job, retry_job' })
  job_id: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ type: ['string', 'null'], description: 'Proxmox task id (UPID) of the current attempt' })
  task_id: string | null;

  @IsOptional()
  @IsString()
  @JSONSchema({
    type: ['string', 'null'],
    description: 'Same as task_id (the reference project called it upid)',
  })
  upid: string | null;

  @IsIn(JOB_STATUSES) status: JobStatus;
  @IsString() tool_name: string;
  @IsString() summary: string;
  @IsString() target: string;
  @IsOptional() @IsString() @JSONSchema({ type: ['string', 'null'] }) node: string | null;

  @IsOptional()
  @IsInt()
  @JSONSchema({
    type: ['integer', 'null'],
    description: 'Percent done, from the task log; null when PVE reports none',
  })
  progress: number | null;

  @IsOptional()
  @IsString()
  @JSONSchema({
    type: ['string', 'null'],
    description: "PVE's exit status once the task stopped: OK, WARNINGS: n, or the error text",
  })
  exitstatus: string | null;

  @IsOptional()
  @IsInt()
  @JSONSchema({
    type: ['integer', 'null'],
    description: 'Warning count when the task ended with WARNINGS: n',
  })
  warnings: number | null;

  @IsOptional() @IsString() @JSONSchema({ type: ['string', 'null'] }) last_error: string | null;
  @IsInt() attempts: number;
  @IsInt() retry_count: number;
  @IsArray() @IsString({ each: true }) previous_upids: string[];
  @IsString() created_at: string;
  @IsString() updated_at: string;
  @IsOptional() @IsString() @JSONSchema({ type: ['string', 'null'] }) completed_at: string | null;

  @IsBoolean()
  @JSONSchema({ description: 'Whether retry_job can replay this job now' })
  retryable: boolean;

  @IsOptional()
  @IsObject()
  @JSONSchema({
    type: ['object', 'null'],
    description: 'Retry recipe label and why retry is unavailable, if it is',
  })
  retry_spec: { kind: string; available: boolean; reason?: string } | null;

  @IsOptional()
  @IsInt()
  @JSONSchema({
    description:
      'The ID of the guest this job creates (create_vm, create_container, clone_vm, clone_container, restore_backup to a new ID)',
  })
  vmid?: number;

  @IsObject() metadata: Record<string, unknown>;

  @IsOptional()
  @IsObject()
  @JSONSchema({ type: ['object', 'null'], description: 'Last PVE task status payload' })
  result: Record<string, unknown> | null;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Set when a wait ended before the task did (the job keeps being tracked)' })
  wait_timed_out?: boolean;
}

export class JobListDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => JobDto) jobs: JobDto[];
  @IsInt() total: number;
  @IsInt() limit: number;
  @IsInt() offset: number;
  @IsBoolean() truncated: boolean;
}

/**
 * `wait` / `wait_timeout_seconds` for every mutating tool's DTO (extend it). With wait, the call returns when the
 * task has ended or the timeout passed, streaming MCP progress notifications if the client asked for them.
 */
export class WaitOptionsDto {
  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Wait for the Proxmox task to finish before returning (default false)' })
  wait?: boolean;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(900)
  @JSONSchema({ description: 'Longest wait in seconds when wait is true (1-900, default 120)' })
  wait_timeout_seconds?: number;
}
