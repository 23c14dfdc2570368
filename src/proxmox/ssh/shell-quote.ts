/**
 * POSIX shell quoting for the one command string SSH sends. `exec` over SSH carries a single string that the
 * node's login shell parses, so every argument we pass is single-quoted here: inside single quotes a POSIX shell
 * gives no character a meaning except `'` itself, which is written as `'\''` (close, escaped quote, reopen).
 * Checked against bash and dash with hostile and random strings (test/proxmox/ssh-quote.test.ts).
 */

/** One argument as a single-quoted shell word. NUL cannot be passed to a process at all, so it is refused. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument contains a NUL byte, which no process can receive');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Where `pct` lives on every Proxmox VE node (also what sudoers rules name: `/usr/sbin/pct exec *`). */
export const PCT = '/usr/sbin/pct';

/** Seconds between the TERM and the KILL that `timeout` sends to a command that overran its time. */
export const DEFAULT_KILL_AFTER_SECONDS = 5;

/** What runs inside the container: an argv (run without a shell) or one script for `/bin/sh -c`. */
export type ContainerCommand = { argv: string[] } | { script: string };

export interface PctExecLine {
  vmid: number;
  command: ContainerCommand;
  /** Prefix `sudo -n` (never prompts: a missing NOPASSWD rule fails at once instead of hanging). */
  useSudo: boolean;
  /** Wall-clock limit enforced on the node by coreutils `timeout` (TERM, then KILL after killAfterSeconds). */
  timeoutSeconds: number;
  killAfterSeconds?: number;
}

/**
 * The exact command line for the node:
 * `timeout --kill-after=5s 30s [sudo -n ]/usr/sbin/pct exec 101 -- 'uname' '-a'`
 * or, for a script, `… /usr/sbin/pct exec 101 -- /bin/sh -c 'echo a | wc -c'`.
 *
 * - `--` ends pct's own options, so an argument such as `--help` or `-rf` reaches the container's program;
 * - the vmid is an integer checked here (it is the one unquoted value);
 * - `timeout` runs on the node, outside sudo, so the sudoers rule stays `pct exec *` and the deadline holds even
 *   if our SSH connection is gone. Killing pct (lxc-attach) is what ends the command in the container.
 */
export function pctExecLine(line: PctExecLine): string {
  if (!Number.isInteger(line.vmid) || line.vmid < 100 || line.vmid > 999_999_999) {
    throw new Error(`vmid must be an integer 100-999999999, got ${String(line.vmid)}`);
  }
  const seconds = wholeSeconds(line.timeoutSeconds, 'timeoutSeconds');
  const killAfter = wholeSeconds(line.killAfterSeconds ?? DEFAULT_KILL_AFTER_SECONDS, 'killAfterSeconds');
  const inner =
    'script' in line.command
      ? `/bin/sh -c ${shellQuote(line.command.script)}`
      : line.command.argv.map(shellQuote).join(' ');
  if (!inner) throw new Error('the command is empty');
  const sudo = line.useSudo ? 'sudo -n ' : '';
  return `timeout --kill-after=${killAfter}s ${seconds}s ${sudo}${PCT} exec ${line.vmid} -- ${inner}`;
}

function wholeSeconds(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number of seconds >= 1`);
  return value;
}
