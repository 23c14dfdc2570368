import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { currentCall } from '../../common/context/call-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { commandToRun } from '../../security/policy/exec-command.js';
import {
  EXEC_DEFAULT_TIMEOUT_SECONDS,
  type ExecResultDto,
  type ExecuteVmCommandBodyDto,
  type VmIpAddressesDto,
} from './dto/vm-agent.dto.js';
import { toExecResult, toIpAddresses, type AgentExecStatus, type AgentInterface } from './vms.mapper.js';
import { asVmNotFound, upstreamSays, VmStateReader } from '../guests/guest-state.js';

/** Bytes of stdout and of stderr a result carries (each); more is cut and flagged. */
export const EXEC_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** exec-status polling: quick at first (most commands take milliseconds), then once a second like PVE's UI. */
const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 1000;

/**
 * The QEMU guest agent: network addresses and command execution inside a VM. Needs `agent: 1` in the VM config,
 * a running VM and qemu-guest-agent running in the guest; each missing piece is a CONFLICT naming the fix.
 */
@Injectable()
export class VmAgentService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly state: VmStateReader,
  ) {}

  async ipAddresses(node: string, vmid: number, target?: string): Promise<VmIpAddressesDto> {
    let reply: { result?: AgentInterface[] } | null;
    try {
      reply = await this.gateway
        .client(target)
        .get(pvePath`/nodes/${node}/qemu/${vmid}/agent/network-get-interfaces`);
    } catch (error) {
      throw agentError(error, node, vmid);
    }
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      ...toIpAddresses(Array.isArray(reply?.result) ? reply.result : []),
    };
  }

  /**
   * Runs one program in the guest (agent `exec`), then polls `exec-status` until it exited or the timeout passed.
   * The command text is never logged or put into errors: it may carry secrets.
   */
  async execute(
    node: string,
    vmid: number,
    dto: ExecuteVmCommandBodyDto,
    target?: string,
  ): Promise<ExecResultDto> {
    const argv = guestArgv(dto);
    await this.assertAgentUsable(node, vmid, target);
    const client = this.gateway.client(target);
    const signal = currentCall().signal;
    let pid: number;
    try {
      const started = await client.post<{ pid?: unknown }>(pvePath`/nodes/${node}/qemu/${vmid}/agent/exec`, {
        command: argv,
      });
      pid = num(started?.pid);
    } catch (error) {
      // qemu-ga's spawn error quotes the program name; the answer must not echo any part of the command
      if (upstreamSays(error, /Failed to execute child process/)) {
        throw new DomainError(
          'NOT_FOUND',
          `The guest in VM ${vmid} could not start command[0]: no such program`,
          {
            hint: 'Give the full path of the program (the agent does not search a login PATH), or check it is installed.',
          },
        );
      }
      throw agentError(error, node, vmid);
    }
    if (!Number.isInteger(pid) || pid <= 0) {
      throw new DomainError('UPSTREAM_PROTOCOL', 'The guest agent started no process (no pid in the answer)');
    }

    const deadline = Date.now() + (dto.timeout_seconds ?? EXEC_DEFAULT_TIMEOUT_SECONDS) * 1000;
    let delay = POLL_FIRST_MS;
    let status: AgentExecStatus = {};
    for (;;) {
      try {
        status =
          (await client.get<AgentExecStatus>(
            pvePath`/nodes/${node}/qemu/${vmid}/agent/exec-status`,
            { pid },
            {
              signal,
            },
          )) ?? {};
      } catch (error) {
        throw agentError(error, node, vmid);
      }
      if (isTrue(status.exited)) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal?.aborted) break;
      try {
        await sleep(Math.min(delay, remaining), undefined, { signal });
      } catch {
        break; // the caller went away; answer with what is known
      }
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      ...toExecResult(pid, status, EXEC_OUTPUT_LIMIT_BYTES),
    };
  }

  /**
   * What can be read before a command is sent (and before its approval is asked): the VM exists, has the agent
   * on in its config and runs. Whether the agent answers inside the guest shows only when the command is sent.
   */
  private async assertAgentUsable(node: string, vmid: number, target?: string): Promise<void> {
    const { config } = await this.state.config(node, vmid, target);
    if (!agentEnabled(config.agent)) {
      throw noAgentConfigured(`VM ${vmid} on node ${node}`);
    }
    const { status } = await this.state.status(node, vmid, target);
    if (status !== 'running') {
      throw new DomainError(
        'CONFLICT',
        `VM ${vmid} on node ${node} is not running (status: ${status}), so its guest agent cannot answer`,
        {
          hint: 'start_vm starts it; the agent answers once the guest has booted.',
        },
      );
    }
  }
}

/** `agent` in a VM config: `1`, `enabled=1,fstrim_cloned_disks=1`, `0` … (absent: off). */
function agentEnabled(value: string | number | undefined): boolean {
  if (value === undefined) return false;
  const first = String(value).split(',')[0];
  // a first item that is not a flag (`type=isa`) leaves the agent at its default: off
  return Number(first.replace(/^enabled=/, '')) === 1;
}

/**
 * The argv the agent runs, by the command policy's own rule (exec-command.ts): an array as given, a string split
 * by POSIX word rules (no shell: `&&`, pipes and globs are refused, not run); `shell: true` wraps one string in
 * /bin/sh -c (Linux) or cmd /c (Windows).
 */
export function guestArgv(dto: ExecuteVmCommandBodyDto): string[] {
  const form = commandToRun(dto.command, dto.shell);
  if (form.kind === 'argv') return form.argv;
  return dto.guest_os === 'windows' ? ['cmd.exe', '/c', form.script] : ['/bin/sh', '-c', form.script];
}

const isTrue = (v: unknown) => v === true || num(v) === 1;

/** PVE's agent failures (QemuServer/Agent.pm) as CONFLICT with the fix; everything else unchanged. */
function agentError(error: unknown, node: string, vmid: number): unknown {
  const vm = `VM ${vmid} on node ${node}`;
  if (upstreamSays(error, /No QEMU guest agent configured/)) return noAgentConfigured(vm);
  if (upstreamSays(error, /QEMU guest agent is not running/)) {
    return new DomainError('CONFLICT', `The QEMU guest agent of ${vm} is not answering`, {
      hint: 'Install and start qemu-guest-agent inside the guest (e.g. `systemctl enable --now qemu-guest-agent`); right after a boot, wait until the guest is up.',
    });
  }
  if (upstreamSays(error, /VM \d+ is not running/)) {
    return new DomainError('CONFLICT', `${vm} is not running, so its guest agent cannot answer`, {
      hint: 'start_vm starts it; the agent answers once the guest has booted.',
    });
  }
  return asVmNotFound(error, node, vmid);
}

function noAgentConfigured(vm: string): DomainError {
  return new DomainError(
    'CONFLICT',
    `${vm} has no QEMU guest agent configured (agent is off in its config)`,
    {
      hint: 'Enable it in Proxmox (Options → QEMU Guest Agent, or `qm set <vmid> --agent 1`), install qemu-guest-agent in the guest, then restart the VM.',
    },
  );
}
