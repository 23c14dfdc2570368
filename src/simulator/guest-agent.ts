import type { GuestConfig, GuestProcess, SimGuest } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import { GuestOs } from './guest-os.js';
import { PveError } from './pve-error.js';

/**
 * The QEMU guest agent of a simulated VM: PVE's availability checks (qemu-server QemuServer/Agent.pm) and qemu-ga's
 * guest-exec / guest-exec-status semantics. A command is an argv run without a shell, as qemu-ga does it, by the
 * simulated guest OS (guest-os.ts): an unknown program is an agent error. Output is kept as bytes, capped at
 * `cluster.agentOutputLimit` (`out-truncated`). What the agent reports about the OS is in guest-os-info.ts.
 */

const LOOSE_TRUE = /^(1|on|yes|true)$/i;

/** get_qga_key($conf, 'enabled'): `agent: 1`, `agent: enabled=1,fstrim_cloned_disks=1`, … */
export function agentEnabled(config: GuestConfig): boolean {
  const text = config.agent;
  if (text === undefined) return false;
  for (const part of String(text).split(',')) {
    if (!part.includes('=')) return LOOSE_TRUE.test(part);
    const [key, value] = part.split('=', 2);
    if (key === 'enabled') return LOOSE_TRUE.test(value);
  }
  return false;
}

/**
 * assert_agent_available: no `agent` option at all → "No QEMU guest agent configured"; VM not running →
 * "VM N is not running"; no answer to guest-ping (agent disabled, paused VM, service not running) →
 * "QEMU guest agent is not running". All synchronous 500s.
 */
export function assertAgentAvailable(guest: SimGuest): void {
  if (guest.config.agent === undefined) throw PveError.internal('No QEMU guest agent configured');
  if (guest.status !== 'running') throw PveError.internal(`VM ${guest.vmid} is not running`);
  if (!agentResponds(guest)) throw PveError.internal('QEMU guest agent is not running');
}

export function agentResponds(guest: SimGuest): boolean {
  return (
    guest.status === 'running' &&
    !guest.paused &&
    agentEnabled(guest.config) &&
    (guest.agentAvailable ?? true)
  );
}

// ------------------------------------------------------------------ guest-exec

/** qemu-ga's error for a program it cannot spawn (GLib's g_spawn message). */
function spawnError(program: string): PveError {
  return PveError.internal(
    `Agent error: Failed to execute child process “${program}” (No such file or directory)`,
  );
}

/**
 * guest-exec: starts the command and returns its pid at once; the process "runs" for as long as its `sleep`s say.
 * An empty command needs `input-data` (PVE: "command or input-data (or both) required").
 */
export function execCommand(
  cluster: ClusterState,
  guest: SimGuest,
  argv: string[],
  inputData: string | undefined,
): { pid: number } {
  if (!argv.length && inputData === undefined)
    throw PveError.internal('command or input-data (or both) required');
  assertAgentAvailable(guest);
  if (!argv.length)
    throw PveError.internal("Agent error: Invalid parameter type for 'path', expected: string");
  const os = new GuestOs(guest, cluster.agentOutputLimit);
  const program = os.resolve(argv[0]);
  if (!program) throw spawnError(argv[0]);
  const result = os.run(program, argv.slice(1), Buffer.from(inputData ?? '', 'utf8'));
  guest.processes ??= new Map();
  guest.nextAgentPid ??= 1000 + ((guest.vmid * 37) % 3000);
  const pid = guest.nextAgentPid++;
  const proc: GuestProcess = {
    pid,
    exitsAt: result.forever ? Infinity : Date.now() + result.ms,
    exitcode: result.code,
    stdout: result.stdout,
    stderr: result.stderr,
  };
  guest.processes.set(pid, proc);
  return { pid };
}

/**
 * guest-exec-status as PVE returns it: `{exited: 0}` while it runs; then exitcode and the output decoded from
 * base64 (bytes shown as Perl's JSON encoder shows them: one character per byte), `out-truncated: 1` only when
 * the cap was hit. qemu-ga forgets a process once it reported it exited: asking again is "Invalid parameter 'pid'".
 */
export function execStatus(cluster: ClusterState, guest: SimGuest, pid: number): Record<string, unknown> {
  assertAgentAvailable(guest);
  const proc = guest.processes?.get(pid);
  if (!proc) throw PveError.internal("Agent error: Invalid parameter 'pid'");
  if (Date.now() < proc.exitsAt) return { exited: 0 };
  guest.processes?.delete(pid);
  const limit = cluster.agentOutputLimit;
  const out: Record<string, unknown> = { exited: 1, exitcode: proc.exitcode };
  if (proc.stdout.length) out['out-data'] = proc.stdout.subarray(0, limit).toString('latin1');
  if (proc.stderr.length) out['err-data'] = proc.stderr.subarray(0, limit).toString('latin1');
  if (proc.stdout.length > limit) out['out-truncated'] = 1;
  if (proc.stderr.length > limit) out['err-truncated'] = 1;
  return out;
}
