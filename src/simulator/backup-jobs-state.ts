import { randomUUID } from 'node:crypto';

/** A value of a jobs.cfg section as the API hands it back (booleans as 0/1, lists as strings). */
export type BackupJobValue = string | number | string[];

/** One `vzdump: <id>` section of /etc/pve/jobs.cfg: the vzdump options plus schedule, enabled, comment, … */
export interface SimBackupJob {
  id: string;
  options: Record<string, BackupJobValue>;
  /** When the job was created (its next run is computed from then or the last run). */
  created: number;
}

/**
 * The cluster's scheduled backup jobs (jobs.cfg `vzdump` sections). IDs look like PVE's own:
 * `backup-<8 hex>-<4 hex>` (the first 13 characters of a UUID).
 */
export class BackupJobsState {
  readonly jobs = new Map<string, SimBackupJob>();

  newId(): string {
    for (;;) {
      const id = `backup-${randomUUID().slice(0, 13)}`;
      if (!this.jobs.has(id)) return id;
    }
  }

  list(): SimBackupJob[] {
    return [...this.jobs.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
