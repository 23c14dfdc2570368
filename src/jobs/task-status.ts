import type { JobStatus } from './job.types.js';

/** The fields of PVE's task status (or a task-list entry) that decide a job's fate. */
export interface TaskState {
  /** `running` or `stopped`. */
  status: string;
  /** Only once stopped: `OK`, `WARNINGS: n`, or the error text. */
  exitstatus?: string;
}

export interface JobOutcome {
  status: JobStatus;
  exitstatus: string | null;
  warnings: number | null;
  lastError: string | null;
  terminal: boolean;
}

const WARNINGS = /^WARNINGS:\s*(\d+)/;

/**
 * PVE's verdict as a job status (proxmox-api.md §6): `OK` and `WARNINGS: n` are success (the reference called
 * warnings a failure); any other exit status is a failure whose text is kept, except that a task we asked to
 * stop ends `cancelled`. A running task keeps the job's current status (running or cancel_requested).
 */
export function outcomeOf(task: TaskState, current: JobStatus): JobOutcome {
  if (task.status !== 'stopped') {
    return { status: current, exitstatus: null, warnings: null, lastError: null, terminal: false };
  }
  const exitstatus = task.exitstatus?.trim() || 'unexpected status';
  if (exitstatus === 'OK') {
    return { status: 'completed', exitstatus, warnings: null, lastError: null, terminal: true };
  }
  const warnings = WARNINGS.exec(exitstatus);
  if (warnings) {
    return {
      status: 'completed',
      exitstatus,
      warnings: Number(warnings[1]),
      lastError: null,
      terminal: true,
    };
  }
  if (current === 'cancel_requested') {
    return { status: 'cancelled', exitstatus, warnings: null, lastError: null, terminal: true };
  }
  return { status: 'failed', exitstatus, warnings: null, lastError: exitstatus, terminal: true };
}

// "(25.00%)", "45%", "progress 7.5 %": the last percentage printed is where the task is now (a multi-disk
// clone prints 0-100% once per disk, so the maximum would claim 100% too early).
const PERCENT = /(\d{1,3}(?:\.\d+)?)\s?%/g;

/** The latest percentage in these log lines, or undefined when none is printed. */
export function progressFromLog(lines: readonly string[]): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const matches = [...lines[i].matchAll(PERCENT)];
    for (let m = matches.length - 1; m >= 0; m--) {
      const value = Number(matches[m][1]);
      if (value <= 100) return Math.floor(value);
    }
  }
  return undefined;
}
