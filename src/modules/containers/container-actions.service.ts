import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import type { TrackSpec, WaitRequest } from '../../jobs/job.types.js';
import type { PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { asCtNotFound, ContainerStateReader, ctLabel, upstreamSays } from '../guests/guest-state.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { resolveSelector, type SelectedContainer } from './container-selector.js';
import {
  STOP_DEFAULT_TIMEOUT_SECONDS,
  type ContainerActionItemDto,
  type ContainerActionResultDto,
  type ContainerSelectorBodyDto,
  type DeleteContainersQueryDto,
  type RestartContainersBodyDto,
  type StopContainersBodyDto,
  type UpdateContainerResourcesBodyDto,
} from './dto/container-actions.dto.js';

/** Containers acted on at once in a bulk call (each is a few PVE calls; waits run side by side). */
const CONCURRENCY = 4;
/** Beyond its own timeout, how long we follow a shutdown task before forcing the stop anyway. */
const SHUTDOWN_WAIT_GRACE_SECONDS = 30;

type Action = 'start' | 'stop' | 'restart' | 'delete' | 'update';

/** What one container's action produced: its jobs in order (the last decides) and a message. */
interface Outcome {
  message: string;
  jobs: JobDto[];
}

/**
 * start_container, stop_container, restart_container, delete_container and update_container_resources: a selector
 * picks the containers (container-selector.ts), then each gets its PVE calls, every task tracked as a job.
 *
 * With one container, a failure is the tool's error (its code and message). With several, the answer lists each
 * container as OK or FAIL (the reference's behaviour), so one refusal does not hide the jobs started for the others.
 */
@Injectable()
export class ContainerActionsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly resources: InventoryService,
    private readonly state: ContainerStateReader,
  ) {}

  start(dto: ContainerSelectorBodyDto, target?: string): Promise<ContainerActionResultDto> {
    return this.forEach('start', dto.selector, dto.format_style, target, async (ct) => {
      if (ct.status === 'running') {
        throw new DomainError('CONFLICT', `${label(ct)} is already running`, {
          hint: 'Nothing to do. restart_container reboots a running container.',
        });
      }
      const job = await this.track(
        ct,
        target,
        {
          toolName: 'start_container',
          summary: `Start CT ${ct.vmid} (${ct.name}) on ${ct.node}`,
          path: pvePath`/nodes/${ct.node}/lxc/${ct.vmid}/status/start`,
          recipeKind: 'ct.start',
          taskType: 'vzstart',
        },
        wait(dto),
      );
      return { message: 'start sent', jobs: [job] };
    });
  }

  /**
   * Graceful: a shutdown job with `timeout`, followed until it ends (at most timeout + 30 s). If the container did
   * not go down and force_after_timeout is on (the default), a second job stops it hard (with overrule-shutdown
   * when the shutdown task is still running). Both jobs are in the result; the stop decides. Not graceful: one stop.
   */
  stop(dto: StopContainersBodyDto, target?: string): Promise<ContainerActionResultDto> {
    const graceful = dto.graceful ?? true;
    const timeout = dto.timeout_seconds ?? STOP_DEFAULT_TIMEOUT_SECONDS;
    const force = dto.force_after_timeout ?? true;
    return this.forEach('stop', dto.selector, dto.format_style, target, async (ct) => {
      if (ct.status !== 'running') {
        throw new DomainError('CONFLICT', `${label(ct)} is not running (status: ${ct.status})`, {
          hint: 'Nothing to stop.',
        });
      }
      if (!graceful) {
        const stop = await this.hardStop(ct, target, wait(dto), 'stop_container', false);
        return { message: 'hard stop sent', jobs: [stop] };
      }
      const shutdown = await this.track(
        ct,
        target,
        {
          toolName: 'stop_container',
          summary: `Shut down CT ${ct.vmid} (${ct.name}) on ${ct.node} (timeout ${timeout} s)`,
          path: pvePath`/nodes/${ct.node}/lxc/${ct.vmid}/status/shutdown`,
          params: { timeout },
          recipeKind: 'ct.stop',
          taskType: 'vzshutdown',
          metadata: { graceful: true, timeout_seconds: timeout },
        },
        { wait: true, timeoutSeconds: timeout + SHUTDOWN_WAIT_GRACE_SECONDS },
      );
      if (shutdown.status === 'completed') return { message: `shut down cleanly`, jobs: [shutdown] };
      const stillRunning = shutdown.wait_timed_out === true;
      if (!force) {
        throw new DomainError(
          'CONFLICT',
          `${label(ct)} did not shut down within ${timeout} s (${shutdown.last_error ?? shutdown.status}); force_after_timeout is false, so it was left running`,
          {
            hint: 'stop_container with graceful: false stops it hard.',
            details: { job_id: shutdown.job_id, status: shutdown.status },
          },
        );
      }
      const stop = await this.hardStop(
        ct,
        target,
        wait(dto),
        'stop_container',
        stillRunning,
        shutdown.job_id,
      );
      return {
        message: `did not shut down within ${timeout} s; stopped hard`,
        jobs: [shutdown, stop],
      };
    });
  }

  restart(dto: RestartContainersBodyDto, target?: string): Promise<ContainerActionResultDto> {
    const timeout = dto.timeout_seconds ?? STOP_DEFAULT_TIMEOUT_SECONDS;
    return this.forEach('restart', dto.selector, dto.format_style, target, async (ct) => {
      if (ct.status !== 'running') {
        throw new DomainError('CONFLICT', `${label(ct)} is not running (status: ${ct.status})`, {
          hint: 'start_container starts it.',
        });
      }
      const job = await this.track(
        ct,
        target,
        {
          toolName: 'restart_container',
          summary: `Reboot CT ${ct.vmid} (${ct.name}) on ${ct.node} (shutdown timeout ${timeout} s)`,
          path: pvePath`/nodes/${ct.node}/lxc/${ct.vmid}/status/reboot`,
          params: { timeout },
          recipeKind: 'ct.restart',
          taskType: 'vzreboot',
          metadata: { timeout_seconds: timeout },
        },
        wait(dto),
      );
      return { message: 'reboot sent', jobs: [job] };
    });
  }

  /**
   * Refused before anything is sent for a protected or locked container and for a running one without `force`.
   * With `force` the container is hard-stopped first and deleted once that stop job completed (never both at once).
   * purge and destroy-unreferenced-disks are always sent explicitly.
   */
  delete(dto: DeleteContainersQueryDto): Promise<ContainerActionResultDto> {
    const target = dto.target;
    const purge = dto.purge ?? false;
    const unreferenced = dto.destroy_unreferenced_disks ?? false;
    return this.forEach('delete', dto.selector, dto.format_style, target, async (ct) => {
      const { config } = await this.state.config(ct.node, ct.vmid, target);
      if (num(config.protection) === 1) {
        throw new DomainError(
          'CONFLICT',
          `${label(ct)} is protected (protection=1); Proxmox refuses to delete it`,
          {
            hint: 'If it really should go, an operator removes the protection flag in Proxmox (Options → Protection) first.',
          },
        );
      }
      if (config.lock !== undefined) {
        throw new DomainError(
          'CONFLICT',
          `${label(ct)} is locked (${String(config.lock)}) by a running operation`,
          {
            hint: 'Wait until that task (backup, snapshot, migration, …) finished; list_tasks shows it.',
          },
        );
      }
      const status = await this.state.status(ct.node, ct.vmid, target);
      const jobs: JobDto[] = [];
      if (status.status === 'running') {
        if (!dto.force) {
          throw new DomainError('CONFLICT', `${label(ct)} is running; a running container is not deleted`, {
            hint: 'Stop it first (stop_container), or call delete_container with force: true to stop it and delete it once stopped.',
          });
        }
        const stop = await this.hardStop(
          ct,
          target,
          { wait: true, timeoutSeconds: dto.wait_timeout_seconds },
          'stop_container',
          false,
        );
        jobs.push(stop);
        if (stop.status !== 'completed') {
          throw new DomainError(
            'CONFLICT',
            `The stop before deleting ${label(ct)} did not complete (job ${stop.job_id}: ${stop.status}${stop.last_error ? `, ${stop.last_error}` : ''}); it was not deleted`,
            {
              hint: stop.wait_timed_out
                ? 'The stop is still running; follow it with wait_job, then call delete_container again.'
                : 'Look at the stop job (get_job) and the container, then call delete_container again.',
              details: { stop_job_id: stop.job_id, stop_status: stop.status },
            },
          );
        }
      }
      const deleted = await this.track(
        ct,
        target,
        {
          toolName: 'delete_container',
          summary: `Delete CT ${ct.vmid} (${ct.name}) on ${ct.node}`,
          method: 'DELETE',
          path: pvePath`/nodes/${ct.node}/lxc/${ct.vmid}`,
          params: { purge, 'destroy-unreferenced-disks': unreferenced },
          recipeKind: 'ct.delete',
          taskType: 'vzdestroy',
          metadata: {
            purge,
            destroy_unreferenced_disks: unreferenced,
            ...(jobs[0] ? { stop_job_id: jobs[0].job_id } : {}),
          },
        },
        { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
      );
      jobs.push(deleted);
      return { message: jobs.length > 1 ? 'stopped, then delete sent' : 'delete sent', jobs };
    });
  }

  /**
   * cores/memory/swap in one config PUT (synchronous in PVE, guarded by the digest just read), then `disk_gb` as a
   * resize job (`+<n>G`: disks only grow). Nothing to change is a VALIDATION error before any container is touched.
   */
  updateResources(dto: UpdateContainerResourcesBodyDto, target?: string): Promise<ContainerActionResultDto> {
    const changes: PveParams = { cores: dto.cores, memory: dto.memory, swap: dto.swap };
    const keys = Object.keys(changes).filter((k) => changes[k] !== undefined);
    if (!keys.length && dto.disk_gb === undefined) {
      throw new DomainError(
        'VALIDATION',
        'Nothing to change: pass at least one of cores, memory, swap, disk_gb',
      );
    }
    const disk = dto.disk ?? 'rootfs';
    return this.forEach('update', dto.selector, dto.format_style, target, async (ct) => {
      const { digest, config } = await this.state.config(ct.node, ct.vmid, target);
      if (dto.disk_gb !== undefined && config[disk] === undefined) {
        throw new DomainError('VALIDATION', `${label(ct)} has no disk '${disk}'`, {
          hint: 'get_container_config shows its rootfs and mount points (mp0 …).',
        });
      }
      const done: string[] = [];
      if (keys.length) {
        try {
          await this.gateway
            .client(target)
            .put<null>(pvePath`/nodes/${ct.node}/lxc/${ct.vmid}/config`, { ...definedOnly(changes), digest });
        } catch (error) {
          throw translate(error, ct);
        }
        if (dto.cores !== undefined) done.push(`cores=${dto.cores}`);
        if (dto.memory !== undefined) done.push(`memory=${dto.memory}MiB`);
        if (dto.swap !== undefined) done.push(`swap=${dto.swap}MiB`);
      }
      const jobs: JobDto[] = [];
      if (dto.disk_gb !== undefined) {
        const resize = await this.track(
          ct,
          target,
          {
            toolName: 'update_container_resources',
            summary: `Grow ${disk} of CT ${ct.vmid} (${ct.name}) on ${ct.node} by ${dto.disk_gb} GiB`,
            method: 'PUT',
            path: pvePath`/nodes/${ct.node}/lxc/${ct.vmid}/resize`,
            params: { disk, size: `+${dto.disk_gb}G` },
            recipeKind: 'ct.resize',
            taskType: 'resize',
            metadata: { disk, grow_gib: dto.disk_gb },
          },
          wait(dto),
        );
        jobs.push(resize);
        done.push(`${disk}+=${dto.disk_gb}G`);
      }
      return { message: done.join(', '), jobs };
    });
  }

  // ---------------------------------------------------------------------------------------------------------

  private hardStop(
    ct: SelectedContainer,
    target: string | undefined,
    waitRequest: WaitRequest,
    toolName: string,
    overruleShutdown: boolean,
    shutdownJobId?: string,
  ): Promise<JobDto> {
    return this.track(
      ct,
      target,
      {
        toolName,
        summary: `Stop CT ${ct.vmid} (${ct.name}) on ${ct.node} (hard)`,
        path: pvePath`/nodes/${ct.node}/lxc/${ct.vmid}/status/stop`,
        ...(overruleShutdown ? { params: { 'overrule-shutdown': true } } : {}),
        recipeKind: 'ct.stop',
        taskType: 'vzstop',
        metadata: { graceful: false, ...(shutdownJobId ? { after_shutdown_job_id: shutdownJobId } : {}) },
      },
      waitRequest,
    );
  }

  private async track(
    ct: SelectedContainer,
    target: string | undefined,
    spec: {
      toolName: string;
      summary: string;
      path: string;
      method?: 'POST' | 'PUT' | 'DELETE';
      params?: PveParams;
      recipeKind: string;
      taskType: string;
      metadata?: Record<string, unknown>;
    },
    waitRequest: WaitRequest,
  ): Promise<JobDto> {
    const track: TrackSpec = {
      toolName: spec.toolName,
      summary: spec.summary,
      target,
      node: ct.node,
      request: {
        method: spec.method ?? 'POST',
        path: spec.path,
        ...(spec.params ? { params: spec.params } : {}),
      },
      metadata: { vmid: ct.vmid, name: ct.name, ...spec.metadata },
      recipeKind: spec.recipeKind,
      expectedTask: { type: spec.taskType, id: String(ct.vmid) },
    };
    try {
      return await this.jobs.track(track, waitRequest);
    } catch (error) {
      throw translate(error, ct);
    }
  }

  /**
   * Resolves the selector with ONE inventory call, then runs `act` per container (a few at a time). Results keep
   * the selector's order.
   */
  private async forEach(
    action: Action,
    selector: string,
    formatStyle: ContainerActionResultDto['format_style'] | undefined,
    target: string | undefined,
    act: (ct: SelectedContainer) => Promise<Outcome>,
  ): Promise<ContainerActionResultDto> {
    // the actions decide from this state (running, locked): never a cached answer
    const snap = await this.resources.clusterResources('vm', target, { fresh: true });
    const selected = resolveSelector(selector, snap.items, snap.unavailableNodes);
    const results: ContainerActionItemDto[] = new Array<ContainerActionItemDto>(selected.length);
    const errors: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < selected.length) {
        const index = next++;
        const ct = selected[index];
        try {
          const outcome = await act(ct);
          results[index] = okItem(ct, outcome);
        } catch (error) {
          errors[index] = error;
          results[index] = failedItem(ct, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, selected.length) }, worker));
    // one container: its failure is the tool's error, with its own code
    if (selected.length === 1 && errors[0] !== undefined) {
      throw errors[0] instanceof Error ? errors[0] : new DomainError('INTERNAL', 'The action failed');
    }
    const failed = results.filter((r) => !r.ok).length;
    return {
      target: snap.target,
      action,
      results,
      succeeded: results.length - failed,
      failed,
      format_style: formatStyle ?? 'pretty',
    };
  }
}

const label = (ct: SelectedContainer) => ctLabel(ct.node, ct.vmid, ct.name);

const wait = (dto: { wait?: boolean; wait_timeout_seconds?: number }): WaitRequest => ({
  wait: dto.wait,
  timeoutSeconds: dto.wait_timeout_seconds,
});

function okItem(ct: SelectedContainer, outcome: Outcome): ContainerActionItemDto {
  const last = outcome.jobs.at(-1);
  // a job that already failed (wait=true) makes the item a failure, with the job attached
  const failedJob = last && (last.status === 'failed' || last.status === 'cancelled') ? last : undefined;
  return {
    ok: !failedJob,
    node: ct.node,
    vmid: ct.vmid,
    name: ct.name,
    ...(failedJob
      ? {
          error: `job ${failedJob.status}: ${failedJob.last_error ?? failedJob.exitstatus ?? 'no details'}`,
          error_code: 'JOB_FAILED',
        }
      : { message: outcome.message }),
    ...(last ? { task_id: last.task_id, job_id: last.job_id, job: last } : {}),
    ...(outcome.jobs.length > 1 ? { jobs: outcome.jobs } : {}),
  };
}

function failedItem(ct: SelectedContainer, error: unknown): ContainerActionItemDto {
  const code = isDomainError(error) ? error.code : 'INTERNAL';
  const message = isDomainError(error) ? error.message : 'unexpected error (see the server log)';
  return {
    ok: false,
    node: ct.node,
    vmid: ct.vmid,
    name: ct.name,
    error: `${code}: ${message}`,
    error_code: code,
  };
}

/** PVE's synchronous refusals for containers as CONFLICT/NOT_FOUND naming the container. */
function translate(error: unknown, ct: SelectedContainer): unknown {
  const what = label(ct);
  if (upstreamSays(error, /CT \d+ already running/)) {
    return new DomainError('CONFLICT', `${what} is already running`);
  }
  if (upstreamSays(error, /CT \d+ not running/)) {
    return new DomainError('CONFLICT', `${what} is not running`, { hint: 'start_container starts it.' });
  }
  if (upstreamSays(error, /protection mode enabled/)) {
    return new DomainError('CONFLICT', `${what} is protected (protection=1); Proxmox refused to delete it`);
  }
  if (upstreamSays(error, /container is running/)) {
    return new DomainError('CONFLICT', `${what} was started again before the delete; it was not deleted`, {
      hint: 'Call delete_container again (with force: true to stop it first).',
    });
  }
  if (upstreamSays(error, /is locked \(/)) {
    return new DomainError('CONFLICT', `${what} is locked by a running operation`, {
      hint: 'Wait until that task finished (list_tasks), then retry.',
    });
  }
  if (upstreamSays(error, /detected modified configuration/)) {
    return new DomainError(
      'CONFLICT',
      `The configuration of ${what} changed while it was being updated; nothing was changed`,
      {
        hint: 'Check the other change with get_container_config and call update_container_resources again.',
      },
    );
  }
  if (upstreamSays(error, /unable to shrink disk size|disk is already at specified size/)) {
    return new DomainError('CONFLICT', `${what}: ${error.message}`);
  }
  return asCtNotFound(error, ct.node, ct.vmid);
}

function definedOnly(params: PveParams): PveParams {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}
