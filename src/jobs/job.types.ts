import type { PveParams } from '../proxmox/proxmox-client.js';

/**
 * Job statuses. `pending`: the row is written and the mutation is being sent (no UPID yet); a row left `pending`
 * by a crash is reconciled at start-up, never re-sent. `completed` covers PVE's `OK` and `WARNINGS: n` (then
 * `warnings` is set). `cancel_requested`: DELETE sent, the task has not stopped yet.
 */
export const JOB_STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancel_requested',
  'cancelled',
  'retrying',
  'unknown',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
/** Statuses the poller follows: a task may still be running on the node. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['running', 'cancel_requested'];
/** Only a task known to have stopped can be retried (a `cancel_requested` task may still be running). */
export const RETRYABLE_STATUSES: readonly JobStatus[] = ['failed', 'cancelled'];

/** The mutation a job runs, exactly as sent to PVE; replayed verbatim by retry_job. */
export interface PveMutation {
  method: 'POST' | 'PUT' | 'DELETE';
  /** Built with pvePath`…` so every segment is encoded. */
  path: string;
  /** Body (POST/PUT) or query (DELETE) parameters. */
  params?: PveParams;
}

/**
 * What a domain service hands to JobsService.track(). The job row (with its retry recipe) is written before the
 * request is sent; if it cannot be written, nothing is sent.
 */
export interface TrackSpec {
  /** The calling tool, e.g. `start_vm`; retry_job's approval checks use it. */
  toolName: string;
  /** One line for people, e.g. `Start VM 100 on pve1`. */
  summary: string;
  /** Target name as given by the caller (undefined = the only/default target). */
  target?: string;
  /** The node whose task this is (tasks are read from the node that runs them). */
  node: string;
  request: PveMutation;
  /**
   * Names of `request.params` that are secrets (passwords, keys). They are sent but never stored: a job whose
   * request carried one has no retry recipe, and says so.
   */
  secretParams?: string[];
  /** Tool-specific, non-secret facts (vmid, name, storage, …); shown in the job and the audit history. */
  metadata?: Record<string, unknown>;
  /** Recipe label kept for the reference's users, e.g. `vm.start`. */
  recipeKind?: string;
  /** What start-up reconciliation looks for if the server died before the UPID was stored (e.g. `qmstart`). */
  expectedTask?: { type: string; id?: string };
  /**
   * For a request that returns no task but starts work PVE then does on its own (the HA manager migrating a
   * guest): the kind of the JobWatcher (job-watchers.ts) that follows that work. The job stays `running` without a
   * UPID until the watcher says it ended; it has no retry recipe (run the tool again).
   */
  watch?: string;
}

/** How long a caller asked to wait for the task to end. */
export interface WaitRequest {
  wait?: boolean;
  /** Seconds; bounded by JobsService (default 120, at most 900). */
  timeoutSeconds?: number;
}
