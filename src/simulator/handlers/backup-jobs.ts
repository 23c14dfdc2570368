import { nextCalendarRun, parseCalendarEvent } from '../../common/validation/calendar-event.js';
import type { BackupJobValue, SimBackupJob } from '../backup-jobs-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';

/**
 * Scheduled backup jobs after pve-manager API2/Backup.pm and API2/BackupInfo.pm: the `vzdump` sections of
 * jobs.cfg. Changes are synchronous (no task). Refusals are PVE's: parameter checks as 400s
 * (verify_vzdump_parameters, the schema's `pve-calendar-event` format), plain `die`s as 500s.
 */
export function registerBackupJobRoutes(router: Router): void {
  router
    .get('/cluster/backup', listJobs)
    .post('/cluster/backup', createJob)
    .get('/cluster/backup/{id}', readJob)
    .put('/cluster/backup/{id}', updateJob)
    .delete('/cluster/backup/{id}', deleteJob)
    .get('/cluster/backup-info/not-backed-up', notBackedUp);
}

/** Parameters that are not job options. */
const NOT_OPTIONS = new Set(['id', 'delete', 'digest']);
/** Property strings PVE::Jobs::VZDump decodes into objects when it reads jobs.cfg. */
const PROPERTY_STRINGS: Record<string, string> = {
  'prune-backups': '',
  fleecing: 'enabled',
  performance: '',
};

function decodePropertyString(text: string, defaultKey: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? defaultKey : part.slice(0, eq);
    const raw = eq < 0 ? part : part.slice(eq + 1);
    out[key] = /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** The job as GET returns it: its options (property strings decoded), `id`, `type` and `next-run`. */
function jobRow(ctx: RouteContext, job: SimBackupJob): Record<string, unknown> {
  const row: Record<string, unknown> = { id: job.id, type: 'vzdump' };
  for (const [key, value] of Object.entries(job.options)) {
    row[key] =
      key in PROPERTY_STRINGS && typeof value === 'string'
        ? decodePropertyString(value, PROPERTY_STRINGS[key])
        : value;
  }
  const schedule = job.options.schedule;
  if (typeof schedule === 'string') {
    const tz = ctx.services.logs.timezone(ctx.cluster.localNode);
    const next = nextCalendarRun(parseCalendarEvent(schedule), Math.floor(Date.now() / 1000), tz);
    if (next !== undefined) row['next-run'] = next;
  }
  return row;
}

function existing(ctx: RouteContext): SimBackupJob {
  const id = ctx.str('id') ?? '';
  const job = ctx.cluster.backupJobs.jobs.get(id);
  if (!job) throw PveError.internal(`job '${id}' does not exist`);
  return job;
}

/** The request's options, typed after the schema (booleans 0/1, integers as numbers, arrays kept). */
function optionsOf(ctx: RouteContext): Record<string, BackupJobValue> {
  const out: Record<string, BackupJobValue> = {};
  for (const [key, value] of Object.entries(ctx.params)) {
    if (NOT_OPTIONS.has(key) || value === undefined || value === null) continue;
    const type = ctx.paramSchema(key)?.type;
    if (type === 'boolean') out[key] = ctx.bool(key) ? 1 : 0;
    else if (type === 'integer') out[key] = ctx.int(key) ?? 0;
    else if (Array.isArray(value)) out[key] = value.map(String);
    else out[key] = ctx.str(key) ?? '';
  }
  return out;
}

const truthy = (v: BackupJobValue | undefined): boolean =>
  v !== undefined && v !== 0 && v !== '0' && v !== '';

/** PVE::VZDump::verify_vzdump_parameters($param, 1) plus the job's own checks (storage, pool, schedule). */
function verify(ctx: RouteContext, options: Record<string, BackupJobValue>): void {
  if (truthy(options.all) && truthy(options.vmid))
    throw PveError.params({ all: "option conflicts with option 'vmid'" });
  if (truthy(options.exclude) && !truthy(options.all))
    throw PveError.params({ exclude: "option only makes sense in combination with option 'all'" });
  if (!truthy(options.all) && !truthy(options.pool) && !truthy(options.vmid))
    throw PveError.params({ vmid: 'property is missing and it is not optional' });
  if (!truthy(options.schedule))
    throw PveError.params({ schedule: 'property is missing and it is not optional' });
  const storage = options.storage;
  if (typeof storage === 'string' && !ctx.cluster.storage(storage))
    throw PveError.internal(`storage '${storage}' does not exist`);
  const pool = options.pool;
  if (typeof pool === 'string' && !ctx.cluster.pools.has(pool))
    throw PveError.internal(`pool '${pool}' does not exist`);
  if (truthy(options['notes-template']) && !truthy(options.storage))
    throw PveError.params({ 'notes-template': "missing property - 'storage' is required" });
}

function listJobs(ctx: RouteContext): unknown {
  return ctx.cluster.backupJobs.list().map((job) => jobRow(ctx, job));
}

function readJob(ctx: RouteContext): unknown {
  return jobRow(ctx, existing(ctx));
}

function createJob(ctx: RouteContext): null {
  const state = ctx.cluster.backupJobs;
  const id = ctx.str('id') ?? state.newId();
  if (state.jobs.has(id)) throw PveError.internal(`Job '${id}' already exists`);
  const options = optionsOf(ctx);
  if (options.enabled === undefined) options.enabled = 1;
  verify(ctx, options);
  state.jobs.set(id, { id, options, created: Math.floor(Date.now() / 1000) });
  return null;
}

/**
 * PUT: the given options replace the job's, `delete` removes some; a new guest selection replaces the old one
 * (vmid drops all/exclude/pool, all drops vmid/pool, pool drops vmid/all/exclude), as update_job does.
 */
function updateJob(ctx: RouteContext): null {
  const job = existing(ctx);
  const changes = optionsOf(ctx);
  const options = { ...job.options };
  for (const key of (ctx.str('delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete options[key];
  if (truthy(changes.vmid)) {
    delete options.all;
    delete options.exclude;
    delete options.pool;
  } else if (truthy(changes.all)) {
    delete options.vmid;
    delete options.pool;
  } else if (truthy(changes.pool)) {
    delete options.vmid;
    delete options.all;
    delete options.exclude;
  }
  Object.assign(options, changes);
  verify(ctx, options);
  job.options = options;
  return null;
}

function deleteJob(ctx: RouteContext): null {
  const job = existing(ctx);
  ctx.cluster.backupJobs.jobs.delete(job.id);
  return null;
}

/** The guests a job selects: its vmid list, its pool's guests, or all guests but the excluded ones. */
function covered(ctx: RouteContext, job: SimBackupJob): number[] {
  const o = job.options;
  const ids = (v: BackupJobValue | undefined) =>
    String(v ?? '')
      .split(/[,;\s]+/)
      .filter(Boolean)
      .map(Number);
  const node = typeof o.node === 'string' ? o.node : undefined;
  const guests = [...ctx.cluster.guests()].filter((g) => node === undefined || g.node === node);
  if (truthy(o.all)) {
    const excluded = new Set(ids(o.exclude));
    return guests.filter((g) => !excluded.has(g.vmid)).map((g) => g.vmid);
  }
  if (typeof o.pool === 'string') return guests.filter((g) => g.pool === o.pool).map((g) => g.vmid);
  return ids(o.vmid);
}

/** get_guests_not_in_backup: every guest no backup job selects, with its type and name. */
function notBackedUp(ctx: RouteContext): unknown {
  const included = new Set<number>();
  for (const job of ctx.cluster.backupJobs.list()) for (const vmid of covered(ctx, job)) included.add(vmid);
  return [...ctx.cluster.guests()]
    .filter((g) => !included.has(g.vmid))
    .sort((a, b) => a.vmid - b.vmid)
    .map((g) => ({
      vmid: g.vmid,
      type: g.type,
      ...(g.type === 'qemu'
        ? g.config.name !== undefined
          ? { name: String(g.config.name) }
          : {}
        : g.config.hostname !== undefined
          ? { name: String(g.config.hostname) }
          : {}),
    }));
}
