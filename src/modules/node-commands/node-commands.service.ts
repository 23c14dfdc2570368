import { Inject, Injectable } from '@nestjs/common';
import { currentCall } from '../../common/context/call-context.js';
import { commandLimits } from '../../common/dto/command-output.dto.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig, type TargetConfig } from '../../config/app-config.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { commandOutcome } from '../../proxmox/ssh/command-outcome.js';
import { DEFAULT_KILL_AFTER_SECONDS, shellQuote } from '../../proxmox/ssh/shell-quote.js';
import { SshExecutor } from '../../proxmox/ssh/ssh-executor.js';
import { firstShellSyntax } from '../../security/policy/shell-syntax.js';
import {
  NODE_COMMAND_MAX_LENGTH,
  type ExecuteNodeCommandBodyDto,
  type NodeCommandResultDto,
} from './dto/node-command.dto.js';

/** A command checked against its target's allow patterns: the argv that will run. */
export interface AllowedNodeCommand {
  target: TargetConfig;
  argv: string[];
}

/**
 * execute_node_command: a command on a Proxmox node itself, over SSH. Off unless the target enables it
 * (`ssh.allow_node_commands`), and then only commands that FULLY match one of the target's `node_command_patterns`.
 * The command runs without a shell: it is split at spaces and every word is single-quoted on the SSH command line,
 * so what the pattern judged is exactly the argv that runs (no `;`, `$(…)` or glob can add anything). The node is
 * checked against the target's own node list before its name picks an SSH host, and the host key is pinned by the
 * shared SshExecutor. All of this runs before the SSH login, where the shared approval checkpoint settles the
 * call's approval: an operator is never asked to approve a call that would be refused.
 */
@Injectable()
export class NodeCommandsService {
  /** Compiled allow patterns per target name (full match, case-sensitive). */
  private readonly patterns = new Map<string, RegExp[]>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gateway: ProxmoxGateway,
    private readonly ssh: SshExecutor,
  ) {
    for (const t of config.targets) {
      if (t.nodeCommands) {
        this.patterns.set(
          t.name,
          t.nodeCommands.allowPatterns.map((p) => new RegExp(`^(?:${p})$`)),
        );
      }
    }
  }

  /** Everything that can be decided without the node: enabled, command shape, allow patterns. */
  authorize(command: string, targetName?: string): AllowedNodeCommand {
    const target = this.gateway.targetConfig(targetName);
    const patterns = this.patterns.get(target.name);
    if (!target.nodeCommands || !patterns) {
      const key =
        this.config.targets.length > 1 || target.name !== 'default'
          ? `targets.${target.name}.ssh.allow_node_commands`
          : 'ssh.allow_node_commands (or PROXMOX_SSH_ALLOW_NODE_COMMANDS)';
      throw new DomainError('POLICY_DENIED', `Node commands are disabled for target '${target.name}'`, {
        hint: `An operator enables them with ${key}=true and lists the allowed commands in node_command_patterns (see proxmox-config/README.md).`,
        details: { policy_code: 'NODE_COMMANDS_DISABLED' },
      });
    }
    this.ssh.assertConfigured();
    const argv = nodeCommandArgv(command);
    const line = argv.join(' ');
    if (!patterns.some((p) => p.test(line))) {
      const listed = target.nodeCommands.allowPatterns.map((p) => JSON.stringify(p)).join(', ');
      throw new DomainError(
        'POLICY_DENIED',
        `The command is not allowed on target '${target.name}': it must fully match one of its node_command_patterns: ${listed}`,
        {
          hint: 'Send a command that matches one of these patterns as a whole, or ask an operator to add a pattern.',
          details: { policy_code: 'NODE_COMMAND_NOT_ALLOWED', patterns: target.nodeCommands.allowPatterns },
        },
      );
    }
    return { target, argv };
  }

  /** The node must be one of the target's nodes (so a caller cannot pick an arbitrary SSH host) and online. */
  async requireNode(node: string, target: TargetConfig): Promise<void> {
    const nodes =
      (await this.gateway
        .client(target.name)
        .get<Array<{ node: string; status?: string }>>('/nodes', undefined, {
          signal: currentCall().signal,
        })) ?? [];
    const found = nodes.find((n) => n.node === node);
    if (!found) {
      throw new DomainError(
        'NOT_FOUND',
        `Node '${node}' is not a node of target '${target.name}' (its nodes: ${
          nodes
            .map((n) => n.node)
            .sort()
            .join(', ') || 'none'
        })`,
        { hint: 'get_nodes lists the nodes.' },
      );
    }
    if (found.status && found.status !== 'online') {
      throw new DomainError(
        'CONFLICT',
        `Node '${node}' of target '${target.name}' is ${found.status}; commands run only on an online node`,
        { hint: 'get_nodes shows the node states.' },
      );
    }
  }

  async execute(
    node: string,
    dto: ExecuteNodeCommandBodyDto,
    targetName?: string,
  ): Promise<NodeCommandResultDto> {
    const { target, argv } = this.authorize(dto.command, targetName);
    await this.requireNode(node, target);
    const { timeoutSeconds, maxOutputBytes } = commandLimits(dto);
    const sudo = this.config.ssh?.useSudo ? 'sudo -n ' : '';
    const result = await this.ssh.run({
      node,
      // `timeout` on the node, outside sudo, so the sudoers rule names the command itself
      command: `timeout --kill-after=${DEFAULT_KILL_AFTER_SECONDS}s ${timeoutSeconds}s ${sudo}${argv.map(shellQuote).join(' ')}`,
      timeoutSeconds,
      maxOutputBytes,
      signal: currentCall().signal,
      purpose: `node command on ${node}`,
    });
    return { target: target.name, node, ...commandOutcome(result, maxOutputBytes) };
  }
}

/**
 * The argv of a node command: split at spaces and tabs, without a shell. Shell syntax (quotes, backslashes,
 * `;` `&` `|` `<` `>` `` ` `` `$(` `${`, line breaks) is refused rather than passed on literally: whoever writes it
 * expects a shell, and the pattern the operator wrote judged plain words. Messages never echo the command.
 */
export function nodeCommandArgv(command: string): string[] {
  if (command.length > NODE_COMMAND_MAX_LENGTH) {
    throw new DomainError(
      'VALIDATION',
      `command is ${command.length} characters long; at most ${NODE_COMMAND_MAX_LENGTH} are allowed`,
    );
  }
  const syntax = firstShellSyntax(command, 'string');
  if (syntax) {
    throw new DomainError(
      'VALIDATION',
      `command contains shell syntax (${syntax}); node commands run without a shell, so quotes, pipes, ;, &&, redirects and $(…) are not allowed`,
      {
        hint: 'Send one plain command such as "zpool status -v" (program and arguments separated by spaces).',
      },
    );
  }
  const control = [...command].find((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && c !== '\t') || code === 0x7f;
  });
  if (control !== undefined) {
    throw new DomainError(
      'VALIDATION',
      `command contains a control character (code ${control.charCodeAt(0)}); only printable text, spaces and tabs are allowed`,
    );
  }
  const argv = command.split(/[ \t]+/).filter((w) => w !== '');
  if (argv.length === 0) throw new DomainError('VALIDATION', 'command is empty: name a program to run');
  return argv;
}
