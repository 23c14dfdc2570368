import {
  nextCalendarRuns,
  parseCalendarEvent,
  type CalendarEvent,
} from '../../common/validation/calendar-event.js';
import type { PveParams } from '../../proxmox/proxmox-client.js';
import type {
  BackupJobDto,
  CreateBackupJobBodyDto,
  RetentionDto,
  UpdateBackupJobBodyDto,
} from './dto/backup-jobs.dto.js';

/** One job of GET /cluster/backup (a jobs.cfg `vzdump` section); numbers and booleans may arrive as strings. */
export interface PveBackupJob {
  id: string;
  type?: string;
  schedule?: string;
  enabled?: number | string | boolean;
  'next-run'?: number | string;
  storage?: string;
  vmid?: string;
  all?: number | string | boolean;
  pool?: string;
  exclude?: string;
  node?: string;
  mode?: string;
  compress?: string;
  'notes-template'?: string;
  'prune-backups'?: Record<string, unknown> | string;
  mailto?: string;
  'notification-mode'?: string;
  comment?: string;
  'repeat-missed'?: number | string | boolean;
  protected?: number | string | boolean;
  [key: string]: unknown;
}

/** How many runs next_runs lists. */
export const NEXT_RUNS = 3;

export const truthy = (v: unknown): boolean => v === true || v === 1 || v === '1';
const iso = (epoch: number): string => new Date(epoch * 1000).toISOString();
export const vmidList = (text: unknown): number[] =>
  (typeof text === 'string' || typeof text === 'number' ? String(text) : '')
    .split(/[,;\s]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n));

const RETENTION_KEYS = [
  'keep-all',
  'keep-last',
  'keep-hourly',
  'keep-daily',
  'keep-weekly',
  'keep-monthly',
  'keep-yearly',
];

/** prune-backups as PVE returns it (an object, or the property string of older versions) → RetentionDto. */
export function toRetention(value: unknown): RetentionDto | undefined {
  let entries: Array<[string, unknown]>;
  if (typeof value === 'string') {
    entries = value
      .split(',')
      .filter(Boolean)
      .map((part) => part.split('=', 2) as [string, string]);
  } else if (value && typeof value === 'object') {
    entries = Object.entries(value);
  } else {
    return undefined;
  }
  const out: RetentionDto = {};
  for (const [key, raw] of entries) {
    if (!RETENTION_KEYS.includes(key)) continue;
    const field = key.replace('-', '_') as keyof RetentionDto;
    if (field === 'keep_all') out.keep_all = truthy(raw) || raw === '1';
    else out[field] = Number(raw);
  }
  return Object.keys(out).length ? out : undefined;
}

/** RetentionDto → the prune-backups property string (`keep-last=3,keep-daily=7`). */
export function retentionString(r: RetentionDto): string {
  const parts: string[] = [];
  if (r.keep_all !== undefined) parts.push(`keep-all=${r.keep_all ? 1 : 0}`);
  for (const key of [
    'keep_last',
    'keep_hourly',
    'keep_daily',
    'keep_weekly',
    'keep_monthly',
    'keep_yearly',
  ] as const) {
    if (r[key] !== undefined) parts.push(`${key.replace('_', '-')}=${r[key]}`);
  }
  return parts.join(',');
}

/** The schedule parsed, or undefined when PVE holds one this parser does not know. */
function eventOf(schedule: string | undefined): CalendarEvent | undefined {
  if (!schedule) return undefined;
  try {
    return parseCalendarEvent(schedule);
  } catch {
    return undefined;
  }
}

/**
 * The job with its next runs: PVE's own `next-run` first, then the following ones computed from the schedule in
 * the node time zone (a disabled job has none).
 */
export function toBackupJob(row: PveBackupJob, timeZone: string | undefined, now: number): BackupJobDto {
  const enabled = row.enabled === undefined ? true : truthy(row.enabled);
  const pveNext = row['next-run'] === undefined ? undefined : Number(row['next-run']);
  const event = eventOf(row.schedule);
  let runs: number[] = [];
  if (enabled && event) {
    runs =
      pveNext !== undefined
        ? [pveNext, ...nextCalendarRuns(event, pveNext, NEXT_RUNS - 1, timeZone)]
        : nextCalendarRuns(event, now, NEXT_RUNS, timeZone);
  } else if (enabled && pveNext !== undefined) {
    runs = [pveNext];
  }
  const all = truthy(row.all);
  const retention = toRetention(row['prune-backups']);
  return {
    id: row.id,
    enabled,
    ...(row.schedule ? { schedule: row.schedule } : {}),
    ...(enabled && runs.length ? { next_run: iso(runs[0]) } : {}),
    next_runs: runs.map(iso),
    selection: all ? 'all' : row.pool ? 'pool' : 'vmids',
    ...(!all && !row.pool ? { vmids: vmidList(row.vmid) } : {}),
    ...(all && row.exclude ? { exclude: vmidList(row.exclude) } : {}),
    ...(row.pool ? { pool: row.pool } : {}),
    ...(row.node ? { node: row.node } : {}),
    ...(row.storage ? { storage: row.storage } : {}),
    ...(row.mode ? { mode: row.mode } : {}),
    ...(row.compress !== undefined ? { compress: String(row.compress) } : {}),
    ...(row['notes-template'] ? { notes_template: row['notes-template'] } : {}),
    ...(retention ? { retention } : {}),
    ...(row.mailto ? { mailto: row.mailto.split(/[,;\s]+/).filter(Boolean) } : {}),
    ...(row['notification-mode'] ? { notification_mode: row['notification-mode'] } : {}),
    ...(row.comment ? { comment: row.comment } : {}),
    repeat_missed: truthy(row['repeat-missed']),
    ...(row.protected !== undefined ? { protected: truthy(row.protected) } : {}),
  };
}

/** The tool's settings as PVE's job parameters (only those given). */
export function jobParams(dto: CreateBackupJobBodyDto | UpdateBackupJobBodyDto): PveParams {
  const params: PveParams = {
    schedule: dto.schedule,
    storage: dto.storage,
    vmid: dto.vmids?.join(','),
    all: dto.all,
    pool: dto.pool,
    exclude: dto.exclude?.join(','),
    node: dto.node,
    mode: dto.mode,
    compress: dto.compress,
    enabled: dto.enabled,
    'notes-template': dto.notes_template,
    'prune-backups': dto.retention ? retentionString(dto.retention) : undefined,
    mailto: dto.mailto?.join(','),
    mailnotification: dto.mail_notification,
    'notification-mode': dto.notification_mode,
    comment: dto.comment,
    'repeat-missed': dto.repeat_missed,
    protected: dto.protected,
  };
  for (const key of Object.keys(params)) if (params[key] === undefined) delete params[key];
  return params;
}

/** clear names → PVE option names (PUT `delete`). */
export const CLEAR_KEYS: Record<string, string> = {
  comment: 'comment',
  notes_template: 'notes-template',
  node: 'node',
  mailto: 'mailto',
  retention: 'prune-backups',
  exclude: 'exclude',
};

/** A job option PVE would not accept on /nodes/{node}/vzdump, or one run_backup_job leaves out on purpose. */
export const NOT_FOR_VZDUMP = new Set([
  'id',
  'type',
  'schedule',
  'enabled',
  'comment',
  'repeat-missed',
  'next-run',
  'dow',
  'starttime',
  'node',
  // a manual run never prunes (remove=0); pruning stays with the scheduled runs
  'prune-backups',
  'maxfiles',
  'remove',
  // root@pam only: an API token can never pass them
  'tmpdir',
  'dumpdir',
  'script',
]);

/** A job option object PVE decoded (fleecing, performance) back into its property string. */
export function propertyString(value: Record<string, unknown>): string {
  return Object.entries(value)
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 1 : 0) : String(v)}`)
    .join(',');
}
