import { Inject, Injectable } from '@nestjs/common';
import { currentCall } from '../../common/context/call-context.js';
import { commandLimits } from '../../common/dto/command-output.dto.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { commandOutcome } from '../../proxmox/ssh/command-outcome.js';
import { pctExecLine, type ContainerCommand } from '../../proxmox/ssh/shell-quote.js';
import { SshExecutor, type SshRunResult } from '../../proxmox/ssh/ssh-executor.js';
import {
  compileCommandPolicy,
  evaluateCommand,
  type CompiledCommandPolicy,
} from '../../security/policy/command-policy.js';
import { commandToRun } from '../../security/policy/exec-command.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { resolveSelector, type SelectedContainer } from './container-selector.js';
import { ContainerStateReader, ctLabel } from '../guests/guest-state.js';
import {
  type ContainerExecResultDto,
  type ContainerSshKeysResultDto,
  type ExecuteContainerCommandBodyDto,
  type UpdateContainerSshKeysBodyDto,
} from './dto/container-exec.dto.js';
import { parsePublicKeys } from '../../common/validation/ssh-public-keys.js';

/**
 * The scripts update_container_ssh_keys runs inside the container (`/bin/sh -c`, as root). The keys never appear
 * in a command line: they arrive on stdin, already checked by parsePublicKeys. append adds only keys that are not
 * there yet (idempotent) and fixes a missing final newline first; replace writes a temporary file and renames it,
 * so a failure never leaves a half-written authorized_keys. Both print `added=N total=M`.
 */
export const AUTHORIZED_KEYS_SCRIPTS = {
  append: [
    'set -eu',
    'umask 077',
    'd=/root/.ssh',
    'f="$d/authorized_keys"',
    'mkdir -p "$d"',
    'chmod 700 "$d"',
    'touch "$f"',
    'if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi',
    'added=0',
    'while IFS= read -r key || [ -n "$key" ]; do',
    '  [ -n "$key" ] || continue',
    '  if ! grep -qxF -- "$key" "$f"; then printf \'%s\\n\' "$key" >> "$f"; added=$((added + 1)); fi',
    'done',
    'chmod 600 "$f"',
    'echo "added=$added total=$(grep -cE \'^[^#[:space:]]\' "$f" || true)"',
  ].join('\n'),
  replace: [
    'set -eu',
    'umask 077',
    'd=/root/.ssh',
    'f="$d/authorized_keys"',
    'mkdir -p "$d"',
    'chmod 700 "$d"',
    't="$f.new.$$"',
    'cat > "$t"',
    'chmod 600 "$t"',
    'mv -f "$t" "$f"',
    'n=$(grep -cE \'^[^#[:space:]]\' "$f" || true)',
    'echo "added=$n total=$n"',
  ].join('\n'),
} as const;

/** How the command policy sees update_container_ssh_keys: a fixed pseudo-command, documented for operators. */
export const SSH_KEYS_POLICY_COMMAND = 'update_container_ssh_keys';

const SSH_KEYS_TIMEOUT_SECONDS = 30;

/**
 * Commands inside containers, over SSH to the node and `pct exec` (PVE's REST API has no container exec). The
 * command policy has already judged `command`/`shell` (global guard, risk `exec`) before execute() runs.
 */
@Injectable()
export class ContainerExecService {
  private readonly policy: CompiledCommandPolicy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ssh: SshExecutor,
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
    private readonly state: ContainerStateReader,
  ) {
    this.policy = compileCommandPolicy(config.commandPolicy);
  }

  async execute(dto: ExecuteContainerCommandBodyDto, target?: string): Promise<ContainerExecResultDto> {
    this.ssh.assertConfigured();
    const command = containerCommand(dto);
    const snap = await this.resources.clusterResources('vm', target, { fresh: true });
    const matched = resolveSelector(dto.selector, snap.items, snap.unavailableNodes);
    if (matched.length !== 1) {
      throw new DomainError(
        'VALIDATION',
        `selector '${dto.selector}' matched ${matched.length} containers; execute_container_command runs in exactly one: ${matched
          .map((c) => `${c.node}:${c.vmid} (${c.name})`)
          .join(', ')}`,
        { hint: 'Name one container, e.g. pve1:101.' },
      );
    }
    const ct = matched[0];
    await this.requireRunning(ct, target);
    const { timeoutSeconds, maxOutputBytes } = commandLimits(dto);
    const result = await this.ssh.run({
      node: ct.node,
      command: pctExecLine({ vmid: ct.vmid, command, useSudo: this.useSudo, timeoutSeconds }),
      timeoutSeconds,
      maxOutputBytes,
      signal: currentCall().signal,
      purpose: `pct exec ${ct.vmid}`,
    });
    this.failOnPctError(result, ct);
    return {
      target: snap.target,
      node: ct.node,
      vmid: ct.vmid,
      name: ct.name,
      ...commandOutcome(result, maxOutputBytes),
    };
  }

  /**
   * Unlike the reference (seed §9 #20), this is under the command policy: it runs a fixed script inside the
   * container, which the policy sees as the command `update_container_ssh_keys append|replace` (deny patterns
   * apply; in deny_all/allowlist mode an allow pattern must name it, e.g. `update_container_ssh_keys (append|replace)`).
   * The keys themselves are data on stdin, checked as OpenSSH public keys, never part of a command line.
   */
  async updateSshKeys(
    node: string,
    vmid: number,
    dto: UpdateContainerSshKeysBodyDto,
    target?: string,
  ): Promise<ContainerSshKeysResultDto> {
    this.ssh.assertConfigured();
    const mode = dto.mode ?? 'append';
    const keys = parsePublicKeys(dto.public_keys, 'public_keys');
    const decision = evaluateCommand({ command: [SSH_KEYS_POLICY_COMMAND, mode] }, this.policy);
    if (!decision.allowed) {
      if (decision.error === 'VALIDATION') throw new DomainError('VALIDATION', decision.message);
      throw new DomainError('POLICY_DENIED', decision.message, {
        hint: `${decision.hint} The command policy sees this tool as the command "${SSH_KEYS_POLICY_COMMAND} ${mode}".`,
        details: { policy_code: decision.code },
      });
    }
    const status = await this.state.status(node, vmid, target);
    const ct: SelectedContainer = { node, vmid, name: status.name ?? `CT-${vmid}`, status: status.status };
    if (status.status !== 'running') throw notRunning(ct);
    const result = await this.ssh.run({
      node,
      command: pctExecLine({
        vmid,
        command: { script: AUTHORIZED_KEYS_SCRIPTS[mode] },
        useSudo: this.useSudo,
        timeoutSeconds: SSH_KEYS_TIMEOUT_SECONDS,
      }),
      stdin: `${keys.join('\n')}\n`,
      timeoutSeconds: SSH_KEYS_TIMEOUT_SECONDS,
      maxOutputBytes: 16 * 1024,
      signal: currentCall().signal,
      purpose: `authorized_keys ${mode} in CT ${vmid}`,
    });
    this.failOnPctError(result, ct);
    const counts = /added=(\d+) total=(\d+)/.exec(result.stdout.toString('utf8'));
    if (result.timedOut || result.exitCode !== 0 || !counts) {
      const stderr = result.stderr.toString('utf8').trim().slice(0, 500);
      throw new DomainError(
        'UPSTREAM_ERROR',
        `Writing /root/.ssh/authorized_keys in ${ctLabel(node, vmid, ct.name)} failed${
          result.timedOut ? ' (timed out)' : ` (exit code ${result.exitCode ?? 'none'})`
        }${stderr ? `: ${stderr}` : ''}`,
        { hint: 'Check that the container has a POSIX shell with grep, and that /root is writable.' },
      );
    }
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      mode,
      success: true,
      keys_added: Number(counts[1]),
      keys_total: Number(counts[2]),
    };
  }

  private get useSudo(): boolean {
    return this.config.ssh?.useSudo ?? false;
  }

  private async requireRunning(ct: SelectedContainer, target?: string): Promise<void> {
    // the inventory may be a few seconds old; the node's own status decides
    const status = await this.state.status(ct.node, ct.vmid, target);
    if (status.status !== 'running') throw notRunning({ ...ct, status: status.status });
  }

  /**
   * What `pct` (not the container's command) reports: exit 255 with its own message when the container stopped
   * in between or is not on this node, and sudo's refusal when use_sudo lacks a NOPASSWD rule.
   */
  private failOnPctError(result: SshRunResult, ct: SelectedContainer): void {
    const stderr = result.stderr.toString('utf8');
    if (result.exitCode === 255 && /^CT \d+ not running/m.test(stderr)) throw notRunning(ct);
    if (result.exitCode === 255 && /^Configuration file '.*' does not exist/m.test(stderr)) {
      throw new DomainError(
        'NOT_FOUND',
        `Container ${ct.vmid} is not on node ${ct.node} (pct found no config)`,
        {
          hint: 'It may have been migrated; get_containers shows where it is now.',
        },
      );
    }
    if (
      this.useSudo &&
      result.exitCode === 1 &&
      /^sudo: (a password is required|a terminal is required|.* is not allowed to execute|.* is not in the sudoers file)/m.test(
        stderr,
      )
    ) {
      throw new DomainError(
        'UPSTREAM_FORBIDDEN',
        `sudo on node ${ct.node} refused to run pct (ssh.use_sudo is on)`,
        {
          // (worded without "NOPASSWD: …": the log/response redactor treats `…passwd: value` as a secret)
          hint: `An operator must give ${this.config.ssh?.user ?? 'the SSH user'} a sudoers rule that runs /usr/sbin/pct exec * as root with the NOPASSWD tag.`,
        },
      );
    }
  }
}

function notRunning(ct: SelectedContainer): DomainError {
  return new DomainError(
    'CONFLICT',
    `${ctLabel(ct.node, ct.vmid, ct.name)} is not running (status: ${ct.status}); commands run only in a running container`,
    {
      hint: 'start_container starts it.',
    },
  );
}

/** argv (no shell; a string split by POSIX word rules) or one script for /bin/sh -c: the policy's own rule. */
function containerCommand(dto: ExecuteContainerCommandBodyDto): ContainerCommand {
  const form = commandToRun(dto.command, dto.shell);
  return form.kind === 'shell' ? { script: form.script } : { argv: form.argv };
}
