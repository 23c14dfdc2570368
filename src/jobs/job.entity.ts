import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../common/persistence/column-transformers.js';
import type { PveMutation, JobStatus } from './job.types.js';

/** What retry_job replays: the PVE request minus nothing (requests carrying secrets get no recipe). */
export interface RetryRecipe {
  kind: string;
  request: PveMutation;
}

/**
 * One job per UPID-returning tool call. Rows are updated with conditional UPDATEs (status / upid / version in the
 * WHERE clause) so two processes never both win a transition; audit history lives in job_events.
 */
@Entity({ name: 'jobs' })
@Index('idx_jobs_created_at', ['createdAt'])
@Index('idx_jobs_status_created_at', ['status', 'createdAt'])
@Index('idx_jobs_tool_created_at', ['toolName', 'createdAt'])
export class JobEntity {
  @PrimaryColumn({ name: 'job_id', type: 'varchar', length: 36 }) jobId: string;
  @Column({ type: 'varchar', length: 128 }) target: string;
  @Column({ name: 'tool_name', type: 'varchar', length: 64 }) toolName: string;
  @Column({ type: 'text' }) summary: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) node: string | null;
  @Column({ type: 'text', nullable: true }) upid: string | null;
  @Column({ type: 'varchar', length: 24 }) status: JobStatus;
  @Column({ type: 'integer', nullable: true }) progress: number | null;
  @Column({ type: 'text', nullable: true }) exitstatus: string | null;
  @Column({ type: 'integer', nullable: true }) warnings: number | null;
  @Column({ type: 'integer' }) attempts: number;
  @Column({ name: 'retry_count', type: 'integer' }) retryCount: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs }) createdAt: number;
  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs }) updatedAt: number;
  @Column({ name: 'completed_at', type: 'bigint', nullable: true, transformer: epochMs }) completedAt:
    number | null;
  @Column({ name: 'result_json', type: 'text', nullable: true, transformer: jsonText })
  result: Record<string, unknown> | null;
  @Column({ name: 'metadata_json', type: 'text', transformer: jsonText }) metadata: Record<string, unknown>;
  @Column({ name: 'previous_upids_json', type: 'text', transformer: jsonText }) previousUpids: string[];
  @Column({ name: 'retry_recipe_json', type: 'text', nullable: true, transformer: jsonText })
  retryRecipe: RetryRecipe | null;
  /** Why there is no recipe (e.g. the request carried a password), for the caller of retry_job. */
  @Column({ name: 'retry_unavailable_reason', type: 'text', nullable: true }) retryUnavailableReason:
    string | null;
  @Column({ name: 'recipe_kind', type: 'varchar', length: 64, nullable: true }) recipeKind: string | null;
  /** What start-up reconciliation looks for when a crash left the job without its UPID. */
  @Column({ name: 'expected_task_json', type: 'text', nullable: true, transformer: jsonText })
  expectedTask: { type: string; id?: string } | null;
  /** The API key (name) that created the job: approvals of its retry are bound to it. */
  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true }) createdBy: string | null;
  /** Which server process polls this job, until when (several replicas share one database). */
  @Column({ name: 'lease_owner', type: 'varchar', length: 64, nullable: true }) leaseOwner: string | null;
  @Column({ name: 'lease_expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  leaseExpiresAt: number | null;
}

@Entity({ name: 'job_events' })
@Index('idx_job_events_job', ['jobId', 'id'])
export class JobEventEntity {
  @Column({ type: 'integer', primary: true, generated: 'increment' }) id: number;
  @Column({ name: 'job_id', type: 'varchar', length: 36 }) jobId: string;
  @Column({ type: 'bigint', transformer: epochMs }) at: number;
  @Column({ type: 'varchar', length: 48 }) event: string;
  @Column({ name: 'details_json', type: 'text', transformer: jsonText }) details: Record<string, unknown>;
}
