import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import type { PveParams } from '../../proxmox/proxmox-client.js';
import type { WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { asVmNotFound, upstreamSays, VmStateReader } from '../guests/guest-state.js';

/** PVE parameters the power tools pass through (shutdown/reboot `timeout`, shutdown `forceStop`, suspend `todisk`). */
export interface PowerOptions {
  timeout?: number;
  forceStop?: boolean;
  todisk?: boolean;
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset' | 'suspend' | 'resume';

const VERBS: Record<PowerAction, string> = {
  start: 'Start',
  stop: 'Stop',
  shutdown: 'Shut down',
  reboot: 'Reboot',
  reset: 'Reset',
  suspend: 'Suspend',
  resume: 'Resume',
};

/** The task type PVE gives each action (start-up reconciliation looks for it). */
const TASK_TYPES: Record<PowerAction, string> = {
  start: 'qmstart',
  stop: 'qmstop',
  shutdown: 'qmshutdown',
  reboot: 'qmreboot',
  reset: 'qmreset',
  suspend: 'qmpause',
  resume: 'qmresume',
};

/** start_vm … resume_vm: one POST to status/{action}, tracked as a job. */
@Injectable()
export class VmPowerService {
  constructor(
    private readonly jobs: JobsService,
    private readonly state: VmStateReader,
  ) {}

  async act(
    action: PowerAction,
    node: string,
    vmid: number,
    options: WaitOptionsDto & PowerOptions,
    target?: string,
  ): Promise<JobDto> {
    if (action === 'start') await this.refuseStartIfRunning(node, vmid, target);
    const { wait, wait_timeout_seconds, timeout, forceStop, todisk } = options;
    const params = definedOnly({ timeout, forceStop, todisk });
    const taskType = action === 'suspend' && todisk ? 'qmsuspend' : TASK_TYPES[action];
    try {
      return await this.jobs.track(
        {
          toolName: `${action}_vm`,
          summary: `${VERBS[action]} VM ${vmid} on ${node}`,
          target,
          node,
          request: {
            method: 'POST',
            path: pvePath`/nodes/${node}/qemu/${vmid}/status/${action}`,
            ...(Object.keys(params).length ? { params } : {}),
          },
          metadata: { vmid, ...params },
          recipeKind: `vm.${action}`,
          expectedTask: { type: taskType, id: String(vmid) },
        },
        { wait, timeoutSeconds: wait_timeout_seconds },
      );
    } catch (error) {
      throw this.translate(error, action, node, vmid);
    }
  }

  /**
   * PVE accepts a start of a running VM and fails the task a moment later ("VM 100 already running"); the
   * reference answered with a success text instead. Both hide what happened, so start_vm refuses up front with
   * CONFLICT naming the current state. (A start racing another start can still fail in its task: the job says so.)
   */
  private async refuseStartIfRunning(node: string, vmid: number, target?: string): Promise<void> {
    const status = await this.state.status(node, vmid, target);
    if (status.status !== 'running') return;
    const label = this.state.label(node, vmid, status.name);
    if (status.qmpstatus === 'paused') {
      throw new DomainError('CONFLICT', `${label} is paused, not stopped`, {
        hint: 'resume_vm continues it.',
        details: { status: status.status, qmpstatus: status.qmpstatus },
      });
    }
    throw new DomainError('CONFLICT', `${label} is already running`, {
      hint: 'Nothing to do. reboot_vm or reset_vm restart a running VM.',
      details: { status: status.status, ...(status.qmpstatus ? { qmpstatus: status.qmpstatus } : {}) },
    });
  }

  /** PVE's synchronous refusals (500 with a text) as CONFLICT/NOT_FOUND that say what to do. */
  private translate(error: unknown, action: PowerAction, node: string, vmid: number): unknown {
    if (upstreamSays(error, /VM \d+ not running/)) {
      return new DomainError(
        'CONFLICT',
        `VM ${vmid} on node ${node} is not running, so it cannot ${action}`,
        {
          hint: 'start_vm starts it.',
        },
      );
    }
    if (upstreamSays(error, /VM is paused - cannot shutdown/)) {
      return new DomainError(
        'CONFLICT',
        `VM ${vmid} on node ${node} is paused; a paused guest cannot ${action}`,
        {
          hint:
            action === 'shutdown'
              ? 'resume_vm first, or shutdown_vm with forceStop: true to stop it.'
              : 'resume_vm first, or reset_vm.',
        },
      );
    }
    return asVmNotFound(error, node, vmid);
  }
}

function definedOnly(params: PveParams): PveParams {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}
