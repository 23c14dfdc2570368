import type { AppConfig, TargetConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { SshExecutor } from '../../proxmox/ssh/ssh-executor.js';
import type { DoctorRow } from './report.js';
import { messageOf } from './target-checks.js';

/**
 * SSH to every online node of a target (the container exec tools run `pct exec` there): reachability, the host
 * key against the pin or known_hosts, login, and that a command runs. Uses the server's own SshExecutor, so it
 * trusts exactly what the tools trust; the command is `true` (with `sudo -n` when ssh.use_sudo is on).
 */
export async function checkSsh(
  config: AppConfig,
  target: TargetConfig,
  client: ProxmoxClient,
): Promise<DoctorRow[]> {
  const ssh = config.ssh;
  if (!ssh) return [];
  const base = { target: target.name };
  const nodeCommands = nodeCommandsRow(config, target);
  let nodes: Array<{ node: string; status?: string }>;
  try {
    nodes = (await client.get<Array<{ node: string; status?: string }>>('/nodes')) ?? [];
  } catch (error) {
    return [
      {
        ...base,
        check: 'ssh',
        status: 'warn',
        message: `The node list could not be read, so SSH was not checked: ${messageOf(error)}`,
        fix: 'Fix the connection rows above first.',
      },
    ];
  }
  const executor = new SshExecutor(config);
  const command = ssh.useSudo ? 'sudo -n true' : 'true';
  const rows: DoctorRow[] = nodeCommands ? [nodeCommands] : [];
  for (const { node, status } of [...nodes].sort((a, b) => a.node.localeCompare(b.node))) {
    const check = `ssh ${node}`;
    const { host, port } = executor.endpoint(node);
    const where = `${ssh.user}@${host}:${port}`;
    if (status !== undefined && status !== 'online') {
      rows.push({
        ...base,
        check,
        status: 'warn',
        message: `node ${node} is ${status}: SSH not checked`,
        fix: 'Run doctor again when the node is back online.',
      });
      continue;
    }
    try {
      const result = await executor.run({
        node,
        command,
        timeoutSeconds: 10,
        maxOutputBytes: 4096,
        purpose: 'doctor login check',
      });
      if (result.exitCode === 0) {
        const trust = ssh.hostKeyFingerprints[node]
          ? 'pinned host key matches'
          : 'host key found in known_hosts';
        rows.push({
          ...base,
          check,
          status: 'pass',
          message: `${where}: ${trust}, login and \`${command}\` work`,
        });
      } else {
        const stderr = result.stderr.toString('utf8').trim().split('\n')[0]?.slice(0, 200) ?? '';
        rows.push({
          ...base,
          check,
          status: 'fail',
          message: `${where}: logged in, but \`${command}\` exited ${result.exitCode ?? result.exitSignal ?? 'without a code'}${stderr ? `: ${stderr}` : ''}`,
          fix: ssh.useSudo
            ? `Allow ${ssh.user} to run pct without a password on ${node} (a NOPASSWD sudoers rule for /usr/sbin/pct), or turn ssh.use_sudo off when logging in as root.`
            : `Check that ${ssh.user}'s login shell on ${node} runs commands (no ForceCommand).`,
        });
      }
    } catch (error) {
      rows.push({ ...base, check, ...sshFailure(error, node) });
    }
  }
  return rows;
}

/** execute_node_command on this target: which commands it allows, and whether an operator approves each call. */
function nodeCommandsRow(config: AppConfig, target: TargetConfig): DoctorRow | undefined {
  if (!target.nodeCommands) return undefined;
  const patterns = target.nodeCommands.allowPatterns;
  const listed = `${patterns.length} allow pattern${patterns.length === 1 ? '' : 's'} (${patterns.map((p) => JSON.stringify(p)).join(', ')})`;
  const mode = config.commandPolicy.highRiskMode;
  if (mode === 'enforce' && config.commandPolicy.highRiskApprovalWaived) {
    return {
      target: target.name,
      check: 'node commands',
      status: 'warn',
      message: `execute_node_command is enabled with ${listed}, and runs WITHOUT an operator approval (command_policy.high_risk_require_approval_token is false)`,
      fix: 'Remove command_policy.high_risk_require_approval_token, so every command on a node waits for an operator.',
    };
  }
  if (mode !== 'enforce') {
    return {
      target: target.name,
      check: 'node commands',
      status: 'warn',
      message: `execute_node_command is enabled with ${listed}, and runs WITHOUT an operator approval (command_policy.high_risk_mode is ${mode})`,
      fix: 'Set command_policy.high_risk_mode to enforce, so every command on a node waits for an operator.',
    };
  }
  return {
    target: target.name,
    check: 'node commands',
    status: 'pass',
    message: `execute_node_command is enabled with ${listed}; every call needs an operator approval; the SSH rows below check the nodes it reaches`,
  };
}

function sshFailure(error: unknown, node: string): Pick<DoctorRow, 'status' | 'message' | 'fix'> {
  if (!(error instanceof DomainError)) {
    return {
      status: 'fail',
      message: messageOf(error),
      fix: 'Unexpected error; run with LOG_LEVEL=debug and report it.',
    };
  }
  const details = (error.details ?? {}) as { ssh_host_key?: string; seen_fingerprint?: string };
  if (details.ssh_host_key === 'unknown') {
    // the tools refuse an unknown key too: nothing was sent, but the operator only has to pin what is shown
    return {
      status: 'warn',
      message: `host key not pinned: ${error.message}. The container exec tools refuse this node until it is`,
      fix:
        `If ${details.seen_fingerprint} is the node's key (on the node: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), ` +
        `pin it: "ssh": { "host_key_fingerprints": { "${node}": "${details.seen_fingerprint}" } }`,
    };
  }
  return {
    status: 'fail',
    message: error.message,
    fix: error.hint ?? 'Check the ssh section of the configuration.',
  };
}
