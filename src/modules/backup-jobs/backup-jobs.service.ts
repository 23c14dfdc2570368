import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { calendarEventProblem } from '../../common/validation/calendar-event.js';
import type { JobDto, WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { ProxmoxClient, PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import { StorageContentService } from '../guests/storage-content.service.js';
import {
  CLEAR_KEYS,
  jobParams,
  NOT_FOR_VZDUMP,
  propertyString,
  toBackupJob,
  truthy,
  vmidList,
  type PveBackupJob,
} from './backup-jobs.mapper.js';
import type {
  BackupJobChangeDto,
  BackupJobDeletedDto,
  BackupJobDto,
  BackupJobListDto,
  BackupJobRunDto,
  BackupRunNodeDto,
  BackupRunSkippedDto,
  CreateBackupJobBodyDto,
  UnprotectedGuestDto,
  UnprotectedGuestsDto,
  UpdateBackupJobBodyDto,
} from './dto/backup-jobs.dto.js';

const JOBS = '/cluster/backup';
const SCHEDULE_EXAMPLES = "daily, 'sun 01:00', 'mon..fri 02:30', '*-*-1 03:00', '*/15', hourly";

interface PveStorageConfig {
  storage: string;
  type?: string;
  content?: string;
  disable?: number | string;
}

interface PveNotBackedUp {
  vmid: number | string;
  type: 'qemu' | 'lxc';
  name?: string;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * The guests a job selects (vzdump's get_included_guests): its vmid list, its pool's guests, or every guest but the
 * excluded ones; a job bound to a node selects only that node's guests.
 */
function selectedBy(job: PveBackupJob, guests: readonly PveClusterResource[]): PveClusterResource[] {
  let chosen: PveClusterResource[];
  if (truthy(job.all)) {
    const excluded = new Set(vmidList(job.exclude));
    chosen = guests.filter((g) => !excluded.has(num(g.vmid)));
  } else if (job.pool) {
    chosen = guests.filter((g) => g.pool === job.pool);
  } else {
    const wanted = new Set(vmidList(job.vmid));
    chosen = guests.filter((g) => wanted.has(num(g.vmid)));
  }
  return job.node ? chosen.filter((g) => g.node === job.node) : chosen;
}

/**
 * Scheduled backup jobs (PVE's /cluster/backup, jobs.cfg `vzdump` sections), running one now, and the guests no
 * job covers. Job changes are synchronous in PVE (no task); running a job starts one vzdump task per node, each a
 * job. Every precondition PVE would refuse (or silently accept and fail at 1 a.m.) is read first.
 */
@Injectable()
export class BackupJobsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
    private readonly jobs: JobsService,
    private readonly content: StorageContentService,
  ) {}

  async list(target?: string): Promise<BackupJobListDto> {
    const { config, client } = this.gateway.resolve(target);
    const [rows, timezone] = await Promise.all([this.rows(client), this.timezone(client)]);
    const now = nowSeconds();
    return {
      target: config.name,
      ...(timezone ? { timezone } : {}),
      jobs: rows.map((row) => toBackupJob(row, timezone, now)),
    };
  }

  async create(dto: CreateBackupJobBodyDto, target?: string): Promise<BackupJobChangeDto> {
    const { config, client } = this.gateway.resolve(target);
    const selected = [dto.vmids !== undefined, dto.all === true, dto.pool !== undefined].filter(
      Boolean,
    ).length;
    if (selected !== 1) {
      throw new DomainError('VALIDATION', 'vmids: pass exactly one of vmids, all: true or pool', {
        hint: 'vmids backs up a list of guests, all: true every guest (exclude leaves some out), pool the guests of a pool.',
        details: { field: 'vmids' },
      });
    }
    if (dto.exclude && dto.all !== true) {
      throw new DomainError('VALIDATION', 'exclude: only with all: true', { details: { field: 'exclude' } });
    }
    const rows = await this.rows(client);
    if (dto.id !== undefined && rows.some((r) => r.id === dto.id)) {
      throw new DomainError('CONFLICT', `A backup job with ID ${dto.id} already exists`, {
        hint: 'Pick another id, or change that job with update_backup_job.',
      });
    }
    await this.check(client, dto, target);
    const id = dto.id ?? `backup-${randomUUID().slice(0, 13)}`;
    const params = jobParams(dto);
    await client.post(JOBS, {
      id,
      ...params,
      compress: params.compress ?? 'zstd',
      mode: params.mode ?? 'snapshot',
    });
    const { job, timezone } = await this.jobNow(client, id);
    return {
      target: config.name,
      ...(timezone ? { timezone } : {}),
      job,
      changes: [`created backup job ${id}`],
    };
  }

  async update(id: string, dto: UpdateBackupJobBodyDto, target?: string): Promise<BackupJobChangeDto> {
    const { config, client } = this.gateway.resolve(target);
    const params = jobParams(dto);
    const clear = dto.clear ?? [];
    if (!Object.keys(params).length && !clear.length) {
      throw new DomainError('VALIDATION', 'Nothing to change', {
        hint: 'Pass a setting (schedule, storage, vmids, all, pool, exclude, mode, enabled, …) or clear.',
      });
    }
    const both = clear.filter((name) => (dto as Record<string, unknown>)[name] !== undefined);
    if (both.length) {
      throw new DomainError('VALIDATION', `clear: ${both.join(', ')} is both set and cleared`, {
        details: { field: 'clear' },
      });
    }
    const selected = [dto.vmids !== undefined, dto.all === true, dto.pool !== undefined].filter(
      Boolean,
    ).length;
    if (selected > 1) {
      throw new DomainError('VALIDATION', 'vmids: pass at most one of vmids, all: true or pool', {
        details: { field: 'vmids' },
      });
    }
    const row = await this.existing(client, id);
    const allAfter = dto.all ?? (selected ? false : truthy(row.all));
    if (dto.all === false && !selected) {
      throw new DomainError('VALIDATION', 'all: false needs vmids or pool (what the job backs up instead)', {
        details: { field: 'all' },
      });
    }
    if (dto.exclude && !allAfter) {
      throw new DomainError('VALIDATION', 'exclude: only for a job that backs up all guests (all: true)', {
        details: { field: 'exclude' },
      });
    }
    await this.check(client, dto, target);
    if (dto.all === false) delete params.all;
    const put: PveParams = { ...params };
    if (clear.length) put.delete = clear.map((name) => CLEAR_KEYS[name]).join(',');
    await client.put(pvePath`/cluster/backup/${id}`, put);
    const { job, timezone } = await this.jobNow(client, id);
    const changes = [
      ...Object.keys(params).map((key) => `set ${key}`),
      ...clear.map((name) => `cleared ${name}`),
    ];
    return { target: config.name, ...(timezone ? { timezone } : {}), job, changes };
  }

  async delete(id: string, target?: string): Promise<BackupJobDeletedDto> {
    const { config, client } = this.gateway.resolve(target);
    await this.existing(client, id);
    await client.delete(pvePath`/cluster/backup/${id}`);
    return { target: config.name, id, deleted: true };
  }

  /**
   * What PVE's "Run now" does: the job's vzdump options sent to /nodes/{node}/vzdump on every node that holds a
   * guest the job selects (its `node` only, when set), one task, so one job, per node. A manual run never prunes
   * (`remove: 0`): retention stays with the scheduled runs. Offline nodes and vanished guests are reported, not
   * failed on.
   */
  async run(id: string, dto: WaitOptionsDto, target?: string): Promise<BackupJobRunDto> {
    const { config, client } = this.gateway.resolve(target);
    const row = await this.existing(client, id);
    const [guests, nodes] = await Promise.all([
      this.inventory.clusterResources('vm', target, { fresh: true }),
      this.inventory.clusterResources('node', target, { fresh: true }),
    ]);
    const online = new Set(nodes.items.filter((n) => n.status === 'online').map((n) => String(n.node)));
    const skipped: BackupRunSkippedDto[] = [];
    let chosen: PveClusterResource[];
    if (truthy(row.all)) {
      const excluded = new Set(vmidList(row.exclude));
      chosen = guests.items.filter((g) => !excluded.has(num(g.vmid)));
    } else if (row.pool) {
      chosen = guests.items.filter((g) => g.pool === row.pool);
    } else {
      const wanted = vmidList(row.vmid);
      chosen = guests.items.filter((g) => wanted.includes(num(g.vmid)));
      for (const vmid of wanted) {
        if (!chosen.some((g) => num(g.vmid) === vmid))
          skipped.push({ vmid, reason: 'no such guest in the cluster' });
      }
    }
    if (row.node) chosen = chosen.filter((g) => g.node === row.node);
    const byNode = new Map<string, number[]>();
    for (const g of chosen) {
      const node = String(g.node);
      if (!online.has(node)) {
        skipped.push({ vmid: num(g.vmid), node, reason: `node ${node} is offline` });
        continue;
      }
      byNode.set(node, [...(byNode.get(node) ?? []), num(g.vmid)]);
    }
    if (!byNode.size) {
      throw new DomainError(
        'CONFLICT',
        `Backup job ${id} selects no guest on an online node; nothing was run`,
        {
          hint: skipped.length
            ? skipped.map((s) => `${s.vmid ?? s.node}: ${s.reason}`).join('; ')
            : 'Change what the job backs up with update_backup_job (vmids, all, pool).',
        },
      );
    }
    if (row.storage) await this.assertBackupStorage(client, row.storage);

    const params = this.vzdumpParams(row);
    const runs: BackupRunNodeDto[] = [];
    const started: JobDto[] = [];
    for (const node of [...byNode.keys()].sort()) {
      const vmids = byNode.get(node)!.sort((a, b) => a - b);
      const job = await this.jobs.track({
        toolName: 'run_backup_job',
        summary: `Run backup job ${id} on ${node}: ${vmids.join(', ')}${row.storage ? ` to ${row.storage}` : ''}`,
        target,
        node,
        request: { method: 'POST', path: pvePath`/nodes/${node}/vzdump`, params },
        metadata: { backup_job: id, vmids, ...(row.storage ? { storage: row.storage } : {}) },
        recipeKind: 'backup.job.run',
        expectedTask: { type: 'vzdump', id: vmids.length === 1 ? String(vmids[0]) : '' },
      });
      started.push(job);
      runs.push({ node, vmids, job_id: job.job_id });
    }
    const jobs = dto.wait
      ? await Promise.all(started.map((j) => this.jobs.waitFor(j.job_id, dto.wait_timeout_seconds)))
      : started;
    return { target: config.name, id, nodes: runs, jobs, skipped };
  }

  /**
   * PVE's not-backed-up report (guests no job selects) with each guest's newest backup, from the backup content of
   * every backup storage (a shared one read once).
   */
  async unprotected(target?: string): Promise<UnprotectedGuestsDto> {
    const { client } = this.gateway.resolve(target);
    const [rows, guests, listing, jobs] = await Promise.all([
      client.get<PveNotBackedUp[] | null>('/cluster/backup-info/not-backed-up'),
      this.inventory.clusterResources('vm', target),
      this.content.list('backup', {}, target),
      this.rows(client),
    ]);
    const newest = new Map<number, { volid: string; storage: string; ctime: number }>();
    for (const item of listing.items) {
      const vmid = num(item.vmid);
      const ctime = num(item.ctime);
      if (!vmid || !ctime) continue;
      const seen = newest.get(vmid);
      if (!seen || ctime > seen.ctime) newest.set(vmid, { volid: item.volid, storage: item.storage, ctime });
    }
    const byVmid = new Map(guests.items.map((g) => [num(g.vmid), g]));
    const now = nowSeconds();
    // PVE counts a disabled job as cover; a guest only disabled jobs select is just as unprotected
    const enabled = jobs.filter((j) => j.enabled === undefined || truthy(j.enabled));
    const disabled = jobs.filter((j) => !enabled.includes(j));
    const coveredByEnabled = new Set(
      enabled.flatMap((j) => selectedBy(j, guests.items).map((g) => num(g.vmid))),
    );
    const listed = new Set((rows ?? []).map((r) => num(r.vmid)));
    const disabledOnly: PveNotBackedUp[] = guests.items
      .filter((g) => !listed.has(num(g.vmid)) && !coveredByEnabled.has(num(g.vmid)))
      .filter((g) => g.type === 'qemu' || g.type === 'lxc')
      .map((g) => ({
        vmid: num(g.vmid),
        type: g.type as 'qemu' | 'lxc',
        ...(g.name ? { name: String(g.name) } : {}),
      }));
    const out: UnprotectedGuestDto[] = [...(rows ?? []), ...disabledOnly].map((row) => {
      const vmid = num(row.vmid);
      const guest = byVmid.get(vmid);
      const backup = newest.get(vmid);
      const name = row.name ?? (guest?.name ? String(guest.name) : undefined);
      const onlyDisabled = listed.has(vmid)
        ? []
        : disabled.filter((j) => guest && selectedBy(j, [guest]).length).map((j) => j.id);
      return {
        vmid,
        type: row.type,
        ...(name ? { name } : {}),
        ...(onlyDisabled.length ? { disabled_jobs: onlyDisabled } : {}),
        ...(guest?.node ? { node: String(guest.node) } : {}),
        ...(guest?.status ? { status: String(guest.status) } : {}),
        ...(backup
          ? {
              newest_backup: {
                volid: backup.volid,
                storage: backup.storage,
                created_at: new Date(backup.ctime * 1000).toISOString(),
                age_seconds: Math.max(0, now - backup.ctime),
              },
            }
          : {}),
      };
    });
    out.sort(
      (a, b) =>
        (a.newest_backup ? 1 : 0) - (b.newest_backup ? 1 : 0) ||
        (b.newest_backup?.age_seconds ?? 0) - (a.newest_backup?.age_seconds ?? 0) ||
        a.vmid - b.vmid,
    );
    const unavailable = [...new Set([...guests.unavailableNodes, ...listing.unavailableNodes])];
    return {
      target: listing.target,
      partial: unavailable.length > 0 || listing.failed.length > 0,
      unavailable_nodes: unavailable,
      guests: out,
      total: out.length,
      never_backed_up: out.filter((g) => !g.newest_backup).length,
      only_disabled_jobs: disabledOnly.length,
      failed: listing.failed,
    };
  }

  // ---------------------------------------------------------------------------------------------------------

  private async rows(client: ProxmoxClient): Promise<PveBackupJob[]> {
    const rows = (await client.get<PveBackupJob[] | null>(JOBS)) ?? [];
    return [...rows].sort((a, b) => a.id.localeCompare(b.id));
  }

  private async existing(client: ProxmoxClient, id: string): Promise<PveBackupJob> {
    const rows = await this.rows(client);
    const row = rows.find((r) => r.id === id);
    if (!row) {
      throw new DomainError('NOT_FOUND', `No backup job ${id}`, {
        hint: rows.length
          ? `Backup jobs: ${rows.map((r) => r.id).join(', ')} (list_backup_jobs shows them).`
          : 'There are no backup jobs; create_backup_job makes one.',
      });
    }
    return row;
  }

  /** The job as list_backup_jobs shows it, right after a change. */
  private async jobNow(client: ProxmoxClient, id: string): Promise<{ job: BackupJobDto; timezone?: string }> {
    const [rows, timezone] = await Promise.all([this.rows(client), this.timezone(client)]);
    const row = rows.find((r) => r.id === id);
    if (!row) throw new DomainError('UPSTREAM_ERROR', `Backup job ${id} was not found after the change`);
    return { job: toBackupJob(row, timezone, nowSeconds()), ...(timezone ? { timezone } : {}) };
  }

  /** The time zone jobs are scheduled in: the first online node's (the cluster's nodes normally share one). */
  private async timezone(client: ProxmoxClient): Promise<string | undefined> {
    try {
      const nodes = (await client.get<Array<{ node: string; status?: string }> | null>('/nodes')) ?? [];
      const node = nodes
        .filter((n) => n.status === 'online')
        .map((n) => n.node)
        .sort()[0];
      if (!node) return undefined;
      const time = await client.get<{ timezone?: string }>(pvePath`/nodes/${node}/time`);
      return time?.timezone;
    } catch {
      return undefined;
    }
  }

  /** Schedule, storage, guests, pool and node, checked before anything is sent. */
  private async check(
    client: ProxmoxClient,
    dto: CreateBackupJobBodyDto | UpdateBackupJobBodyDto,
    target?: string,
  ): Promise<void> {
    if (dto.schedule !== undefined) {
      const problem = calendarEventProblem(dto.schedule);
      if (problem) {
        throw new DomainError(
          'VALIDATION',
          `schedule: '${dto.schedule}' is not a Proxmox calendar event (${problem})`,
          {
            hint: `Examples: ${SCHEDULE_EXAMPLES}. Fields take lists (a,b), ranges (a..b) and repetitions (start/step).`,
            details: { field: 'schedule' },
          },
        );
      }
    }
    if (dto.retention !== undefined) {
      const counts = Object.entries(dto.retention).filter(([k, v]) => k !== 'keep_all' && v !== undefined);
      if (dto.retention.keep_all === undefined && !counts.length) {
        throw new DomainError('VALIDATION', 'retention: give keep_all or at least one keep_* count', {
          hint: 'e.g. { keep_last: 3, keep_daily: 7, keep_weekly: 4 }; clear: [retention] uses the storage retention again.',
          details: { field: 'retention' },
        });
      }
      if (dto.retention.keep_all === true && counts.length) {
        throw new DomainError('VALIDATION', 'retention: keep_all conflicts with the keep_* counts', {
          details: { field: 'retention' },
        });
      }
    }
    if (dto.storage !== undefined) await this.assertBackupStorage(client, dto.storage);
    const vmids = [...(dto.vmids ?? []), ...(dto.exclude ?? [])];
    if (vmids.length) {
      const guests = await this.inventory.clusterResources('vm', target, { fresh: true });
      const known = new Set(guests.items.map((g) => num(g.vmid)));
      const missing = vmids.filter((v) => !known.has(v));
      if (missing.length) {
        const field = dto.vmids?.includes(missing[0]) ? 'vmids' : 'exclude';
        throw new DomainError(
          'NOT_FOUND',
          `${field}: no VM or container ${missing.join(', ')} in the cluster`,
          {
            hint: 'get_vms and get_containers list the guests.',
            details: { field },
          },
        );
      }
    }
    if (dto.pool !== undefined) {
      const pools = (await client.get<Array<{ poolid: string }> | null>('/pools')) ?? [];
      if (!pools.some((p) => p.poolid === dto.pool)) {
        throw new DomainError('NOT_FOUND', `pool: no resource pool '${dto.pool}'`, {
          hint: pools.length ? `Pools: ${pools.map((p) => p.poolid).join(', ')}.` : 'There are no pools.',
          details: { field: 'pool' },
        });
      }
    }
    if (dto.node !== undefined) {
      const nodes = (await client.get<Array<{ node: string }> | null>('/nodes')) ?? [];
      if (!nodes.some((n) => n.node === dto.node)) {
        throw new DomainError('NOT_FOUND', `node: no node '${dto.node}' in the cluster`, {
          hint: `Nodes: ${nodes.map((n) => n.node).join(', ')}.`,
          details: { field: 'node' },
        });
      }
    }
  }

  /** The storage must exist, be enabled and hold content type backup. */
  private async assertBackupStorage(client: ProxmoxClient, storage: string): Promise<void> {
    const rows = (await client.get<PveStorageConfig[] | null>('/storage')) ?? [];
    const backupStorages = rows
      .filter((r) => (r.content ?? '').split(/[,;\s]+/).includes('backup') && !truthy(r.disable))
      .map((r) => r.storage);
    const choice = backupStorages.length
      ? `Backup storages: ${backupStorages.join(', ')}.`
      : 'No storage holds backups; an administrator adds content type backup to one.';
    const row = rows.find((r) => r.storage === storage);
    if (!row) {
      throw new DomainError('NOT_FOUND', `storage: no storage '${storage}' in the cluster`, {
        hint: choice,
        details: { field: 'storage' },
      });
    }
    if (!(row.content ?? '').split(/[,;\s]+/).includes('backup')) {
      throw new DomainError(
        'VALIDATION',
        `storage: '${storage}' does not hold backups (content: ${row.content ?? 'none'})`,
        {
          hint: choice,
          details: { field: 'storage' },
        },
      );
    }
    if (truthy(row.disable)) {
      throw new DomainError('CONFLICT', `storage: '${storage}' is disabled`, {
        hint: choice,
        details: { field: 'storage' },
      });
    }
  }

  /** The job's options as /nodes/{node}/vzdump parameters (a manual run never prunes). */
  private vzdumpParams(row: PveBackupJob): PveParams {
    const params: PveParams = {};
    for (const [key, value] of Object.entries(row)) {
      if (NOT_FOR_VZDUMP.has(key) || value === undefined || value === null) continue;
      if (Array.isArray(value)) params[key] = value.map(String);
      else if (typeof value === 'object') params[key] = propertyString(value as Record<string, unknown>);
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        params[key] = value;
    }
    params.remove = false;
    return params;
  }
}
