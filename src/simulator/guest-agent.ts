import type { GuestConfig, GuestProcess, SimGuest } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import { PveError } from './pve-error.js';

/**
 * The QEMU guest agent of a simulated VM: PVE's availability checks (qemu-server QemuServer/Agent.pm), qemu-ga's
 * guest-exec / guest-exec-status semantics, and a small guest OS behind them. A command is an argv run without a
 * shell, as qemu-ga does it: an unknown program is an agent error, `sh -c '…'` gets a minimal POSIX shell (`;`,
 * `&&`, `||`, `|`, quotes, `$VAR`, `2>&1`, `>/dev/null`) where an unknown command exits 127. Windows guests
 * (ostype w*) run `cmd /c …`. Output is kept as bytes, capped at `cluster.agentOutputLimit` (`out-truncated`).
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

const isWindows = (guest: SimGuest) => /^w/.test(String(guest.config.ostype ?? ''));

function hostName(guest: SimGuest): string {
  return String(guest.config.name ?? `vm${guest.vmid}`);
}

const KERNEL = {
  release: '6.1.0-28-amd64',
  version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)',
};

const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

/** guest-get-osinfo. */
export function osInfo(guest: SimGuest): Record<string, string> {
  if (isWindows(guest)) {
    const win10 = guest.config.ostype === 'win10';
    return {
      id: 'mswindows',
      'kernel-release': win10 ? '19045' : '22631',
      'kernel-version': '10.0',
      machine: 'x86_64',
      name: 'Microsoft Windows',
      'pretty-name': win10 ? 'Windows 10 Pro' : 'Windows 11 Pro',
      variant: 'client',
      'variant-id': 'client',
      version: win10 ? 'Microsoft Windows 10' : 'Microsoft Windows 11',
      'version-id': win10 ? '10' : '11',
    };
  }
  return {
    id: 'debian',
    'kernel-release': KERNEL.release,
    'kernel-version': KERNEL.version,
    machine: 'x86_64',
    name: 'Debian GNU/Linux',
    'pretty-name': 'Debian GNU/Linux 12 (bookworm)',
    version: '12 (bookworm)',
    'version-id': '12',
  };
}

export function hostNameInfo(guest: SimGuest): Record<string, string> {
  return { 'host-name': hostName(guest) };
}

/** The guest's IPv4 on a NIC: the cloud-init static address, else a DHCP lease derived from the vmid. */
export function guestIpv4(guest: SimGuest, index: number): { address: string; prefix: number } {
  const ip = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(String(guest.config[`ipconfig${index}`] ?? ''));
  if (ip) return { address: ip[1], prefix: Number(ip[2]) };
  const n = guest.vmid + index * 7;
  return { address: `10.30.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`, prefix: 16 };
}

function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  if (b.length !== 6 || b.some(Number.isNaN)) return 'fe80::1';
  const words = [((b[0] ^ 2) << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/** guest-network-get-interfaces: loopback plus one interface per netN, with addresses and counters. */
export function networkInterfaces(guest: SimGuest): unknown[] {
  const stats = (seed: number) => ({
    'rx-bytes': guest.counters.netin + seed,
    'rx-dropped': 0,
    'rx-errs': 0,
    'rx-packets': Math.round(guest.counters.netin / 900) + seed,
    'tx-bytes': guest.counters.netout + seed,
    'tx-dropped': 0,
    'tx-errs': 0,
    'tx-packets': Math.round(guest.counters.netout / 900) + seed,
  });
  const win = isWindows(guest);
  const out: unknown[] = [
    {
      name: win ? 'Loopback Pseudo-Interface 1' : 'lo',
      'hardware-address': '00:00:00:00:00:00',
      'ip-addresses': [
        { 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 },
        { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 },
      ],
      statistics: stats(0),
    },
  ];
  const nets = Object.keys(guest.config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  for (const [i, key] of nets.entries()) {
    const index = Number(key.slice(3));
    const mac = (
      /=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/.exec(String(guest.config[key]))?.[1] ?? ''
    ).toLowerCase();
    const ip = guestIpv4(guest, index);
    out.push({
      name: win ? (i === 0 ? 'Ethernet' : `Ethernet ${i + 1}`) : `ens${18 + index}`,
      'hardware-address': mac,
      'ip-addresses': [
        { 'ip-address-type': 'ipv4', 'ip-address': ip.address, prefix: ip.prefix },
        { 'ip-address-type': 'ipv6', 'ip-address': linkLocal(mac), prefix: 64 },
      ],
      statistics: stats(index + 1),
    });
  }
  return out;
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

interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
  /** How long it runs. */
  ms: number;
  /** Never exits (`sleep infinity`, a lone `yes`). */
  forever?: boolean;
  /** `exit N` in a shell: stop the script. */
  exit?: boolean;
}

type Program = (args: string[], stdin: Buffer, env: ShellEnv) => RunResult;

interface ShellEnv {
  vars: Record<string, string>;
  lastCode: number;
  /** Where output goes when it has no downstream reader (so `yes` knows whether to stop). */
  piped: boolean;
  shell: 'sh' | 'bash';
}

const ok = (text = '', ms = 0): RunResult => ({
  stdout: Buffer.from(text, 'utf8'),
  stderr: Buffer.alloc(0),
  code: 0,
  ms,
});
const fail = (code: number, err: string, out = ''): RunResult => ({
  stdout: Buffer.from(out, 'utf8'),
  stderr: Buffer.from(err, 'utf8'),
  code,
  ms: 0,
});

const BIN_DIRS = ['/bin', '/usr/bin', '/sbin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];
const WIN_DIR = /^(?:[a-z]:\\windows\\system32\\)?/i;

/** The simulated guest OS: which programs exist and what they print. */
class GuestOs {
  private readonly programs: Record<string, Program>;

  constructor(
    private readonly guest: SimGuest,
    private readonly outputLimit: number,
  ) {
    this.programs = isWindows(guest) ? this.windowsPrograms() : this.linuxPrograms();
  }

  resolve(name: string): Program | undefined {
    if (isWindows(this.guest)) {
      const base = name
        .replace(WIN_DIR, '')
        .toLowerCase()
        .replace(/\.exe$/, '');
      return this.programs[base];
    }
    if (name.includes('/')) {
      const slash = name.lastIndexOf('/');
      const dir = name.slice(0, slash);
      return BIN_DIRS.includes(dir) ? this.programs[name.slice(slash + 1)] : undefined;
    }
    return this.programs[name];
  }

  run(program: Program, args: string[], stdin: Buffer): RunResult {
    return program(args, stdin, { vars: this.baseEnv(), lastCode: 0, piped: false, shell: 'sh' });
  }

  private baseEnv(): Record<string, string> {
    return {
      HOME: '/root',
      USER: 'root',
      LOGNAME: 'root',
      SHELL: '/bin/bash',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      PWD: '/',
    };
  }

  /** Bytes a never-ending producer (`yes`) writes before the reader has enough: just past the agent's cap. */
  private get flood(): number {
    return this.outputLimit + 1;
  }

  private linuxPrograms(): Record<string, Program> {
    const host = hostName(this.guest);
    const files: Record<string, string> = {
      '/etc/os-release': OS_RELEASE,
      '/usr/lib/os-release': OS_RELEASE,
      '/etc/hostname': `${host}\n`,
      '/etc/debian_version': '12.8\n',
      '/proc/version': `Linux version ${KERNEL.release} (debian-kernel@lists.debian.org) ${KERNEL.version}\n`,
    };
    const readFile = (name: string, prog: string): { data: Buffer } | { error: RunResult } => {
      if (name === '/dev/null') return { data: Buffer.alloc(0) };
      const text = files[name];
      return text === undefined
        ? { error: fail(1, `${prog}: ${name}: No such file or directory\n`) }
        : { data: Buffer.from(text, 'utf8') };
    };
    const shell =
      (kind: 'sh' | 'bash'): Program =>
      (args, stdin, env) => {
        const c = args.indexOf('-c');
        if (c < 0) {
          // a shell reading its script from stdin (input-data)
          return runScript(stdin.toString('utf8'), { ...env, shell: kind }, this);
        }
        const script = args[c + 1];
        if (script === undefined) return fail(2, `${kind}: -c: option requires an argument\n`);
        return runScript(script, { ...env, shell: kind }, this);
      };
    return {
      sh: shell('sh'),
      dash: shell('sh'),
      bash: shell('bash'),
      echo: (args) => {
        let newline = true;
        let escapes = false;
        while (args[0] === '-n' || args[0] === '-e' || args[0] === '-ne' || args[0] === '-en') {
          const flag = args.shift()!;
          if (flag.includes('n')) newline = false;
          if (flag.includes('e')) escapes = true;
        }
        let text = args.join(' ');
        if (escapes) text = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\\\/g, '\\');
        return ok(newline ? `${text}\n` : text);
      },
      printf: (args) => {
        const [format = '', ...rest] = args;
        let i = 0;
        const text = format
          .replace(/%[sd]/g, () => rest[i++] ?? '')
          .replace(/\\n/g, '\n')
          .replace(/\\t/g, '\t');
        return ok(text);
      },
      cat: (args, stdin) => {
        if (!args.length) return { ...ok(), stdout: stdin };
        const parts: Buffer[] = [];
        for (const name of args) {
          if (name === '-') {
            parts.push(stdin);
            continue;
          }
          const r = readFile(name, 'cat');
          if ('error' in r) return { ...r.error, stdout: Buffer.concat(parts) };
          parts.push(r.data);
        }
        return { ...ok(), stdout: Buffer.concat(parts) };
      },
      head: (args, stdin) => {
        let bytes: number | undefined;
        let lines = 10;
        let file: string | undefined;
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (a === '-c') bytes = Number(args[++i]);
          else if (a.startsWith('-c')) bytes = Number(a.slice(2));
          else if (a === '-n') lines = Number(args[++i]);
          else if (/^-\d+$/.test(a)) lines = Number(a.slice(1));
          else if (a.startsWith('-n')) lines = Number(a.slice(2));
          else file = a;
        }
        if ((bytes !== undefined && !Number.isFinite(bytes)) || !Number.isFinite(lines)) {
          return fail(1, `head: invalid number of ${bytes !== undefined ? 'bytes' : 'lines'}\n`);
        }
        let input: Buffer;
        if (file === '/dev/zero') input = Buffer.alloc(Math.min(bytes ?? this.flood, this.flood));
        else if (file === '/dev/urandom') {
          input = Buffer.alloc(Math.min(bytes ?? this.flood, this.flood));
          for (let i = 0; i < input.length; i++) input[i] = (i * 131 + 17) & 0xff;
        } else if (file !== undefined && file !== '-') {
          const r = readFile(file, 'head');
          if ('error' in r) return r.error;
          input = r.data;
        } else input = stdin;
        if (bytes !== undefined) return { ...ok(), stdout: input.subarray(0, bytes) };
        let end = 0;
        for (let n = 0; n < lines && end < input.length; n++) {
          const nl = input.indexOf(10, end);
          end = nl < 0 ? input.length : nl + 1;
        }
        return { ...ok(), stdout: input.subarray(0, end) };
      },
      yes: (args, _stdin, env) => {
        const line = `${args.length ? args.join(' ') : 'y'}\n`;
        const count = Math.ceil(this.flood / line.length);
        const out = Buffer.from(line.repeat(count), 'utf8');
        return { ...ok(), stdout: out, forever: !env.piped };
      },
      seq: (args) => {
        const nums = args.map(Number);
        if (!nums.length || nums.some((n) => !Number.isFinite(n))) {
          return fail(
            1,
            args.length
              ? `seq: invalid floating point argument: '${args.find((a) => !Number.isFinite(Number(a)))}'\n`
              : 'seq: missing operand\n',
          );
        }
        const [first, step, last] =
          nums.length === 1 ? [1, 1, nums[0]] : nums.length === 2 ? [nums[0], 1, nums[1]] : nums;
        const parts: string[] = [];
        let size = 0;
        for (let v = first; step > 0 ? v <= last : v >= last; v += step) {
          const s = `${v}\n`;
          parts.push(s);
          size += s.length;
          if (size > this.flood) break;
        }
        return ok(parts.join(''));
      },
      sleep: (args) => {
        if (!args.length) return fail(1, 'sleep: missing operand\n');
        let total = 0;
        for (const a of args) {
          if (a === 'infinity' || a === 'inf') return { ...ok(), forever: true };
          const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(a);
          if (!m) return fail(1, `sleep: invalid time interval '${a}'\n`);
          total += Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's'] ?? 1) * 1000;
        }
        return ok('', total);
      },
      true: () => ok(),
      false: () => fail(1, ''),
      uname: (args) => {
        const flags = args.join('').replace(/-/g, '');
        const all = ['Linux', host, KERNEL.release, KERNEL.version, 'x86_64', 'GNU/Linux'];
        if (flags.includes('a')) return ok(`${all.join(' ')}\n`);
        const pick: string[] = [];
        if (!flags || flags.includes('s')) pick.push(all[0]);
        if (flags.includes('n')) pick.push(host);
        if (flags.includes('r')) pick.push(KERNEL.release);
        if (flags.includes('v')) pick.push(KERNEL.version);
        if (flags.includes('m')) pick.push('x86_64');
        if (flags.includes('o')) pick.push('GNU/Linux');
        return ok(`${pick.join(' ')}\n`);
      },
      hostname: () => ok(`${host}\n`),
      whoami: () => ok('root\n'),
      id: () => ok('uid=0(root) gid=0(root) groups=0(root)\n'),
      pwd: (_a, _s, env) => ok(`${env.vars.PWD ?? '/'}\n`),
      env: (_a, _s, env) =>
        ok(
          Object.entries(env.vars)
            .map(([k, v]) => `${k}=${v}\n`)
            .join(''),
        ),
      date: () => ok(`${new Date().toUTCString().replace(/GMT$/, 'UTC')}\n`),
      uptime: () => {
        const up = Math.max(0, Math.floor(Date.now() / 1000) - this.guest.startedAt);
        const days = Math.floor(up / 86400);
        const hm = `${Math.floor((up % 86400) / 3600)}:${String(Math.floor((up % 3600) / 60)).padStart(2, '0')}`;
        const time = new Date().toISOString().slice(11, 19);
        return ok(
          ` ${time} up ${days ? `${days} day${days === 1 ? '' : 's'}, ` : ''}${hm},  0 users,  load average: 0.00, 0.01, 0.05\n`,
        );
      },
      wc: (args, stdin) => {
        const text = stdin.toString('latin1');
        const lines = (text.match(/\n/g) ?? []).length;
        if (args.includes('-l')) return ok(`${lines}\n`);
        if (args.includes('-c')) return ok(`${stdin.length}\n`);
        const words = text.split(/\s+/).filter(Boolean).length;
        return ok(
          `${String(lines).padStart(7)} ${String(words).padStart(7)} ${String(stdin.length).padStart(7)}\n`,
        );
      },
    };
  }

  private windowsPrograms(): Record<string, Program> {
    const host = hostName(this.guest).toUpperCase();
    const line = (text: string) => `${text}\r\n`;
    const builtin = (cmdline: string): RunResult => {
      const trimmed = cmdline.trim();
      const [word = '', ...rest] = trimmed.split(/\s+/);
      const name = word.toLowerCase().replace(/\.exe$/, '');
      if (name === 'echo') return ok(line(trimmed.slice(word.length).replace(/^\s/, '')));
      if (name === 'echo.') return ok(line(''));
      if (name === 'ver') return ok(`${line('')}${line('Microsoft Windows [Version 10.0.22631.4317]')}`);
      if (name === 'hostname') return ok(line(host));
      if (name === 'whoami') return ok(line(`${host.toLowerCase()}\\administrator`));
      if (name === 'exit') {
        const code = Number(rest.filter((r) => r.toLowerCase() !== '/b')[0] ?? 0);
        return { ...fail(Number.isFinite(code) ? code : 0, ''), exit: true };
      }
      if (!name) return ok();
      return fail(
        1,
        line(`'${word}' is not recognized as an internal or external command,`) +
          line('operable program or batch file.'),
      );
    };
    const cmd: Program = (args) => {
      const c = args.findIndex((a) => /^\/[ck]$/i.test(a));
      if (c < 0) return ok(line('Microsoft Windows [Version 10.0.22631.4317]'));
      // cmd joins the rest into one command line; `&&`, `||` and `&` chain commands
      const script = args.slice(c + 1).join(' ');
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let code = 0;
      const parts = script.split(/(&&|\|\||&)/);
      let op = '&';
      for (let i = 0; i < parts.length; i += 2) {
        const skip = (op === '&&' && code !== 0) || (op === '||' && code === 0);
        if (!skip) {
          const r = builtin(parts[i]);
          out.push(r.stdout);
          err.push(r.stderr);
          code = r.code;
          if (r.exit) break;
        }
        op = parts[i + 1] ?? '&';
      }
      return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ms: 0 };
    };
    return {
      cmd,
      hostname: () => ok(line(host)),
      whoami: () => ok(line(`${host.toLowerCase()}\\administrator`)),
      powershell: (args) => {
        const c = args.findIndex((a) => /^-c(ommand)?$/i.test(a));
        const script = c < 0 ? '' : args.slice(c + 1).join(' ');
        const m = /^(?:Write-Output|echo)\s+(.*)$/i.exec(script.trim());
        if (m) return ok(line(m[1].replace(/^['"]|['"]$/g, '')));
        if (/^hostname$/i.test(script.trim())) return ok(line(host));
        return fail(
          1,
          line(
            `${script.trim().split(/\s+/)[0]} : The term '${script.trim().split(/\s+/)[0]}' is not recognized as the name of a cmdlet, function, script file, or operable program.`,
          ),
        );
      },
    };
  }

  /** A command inside a shell script: builtins, then programs on PATH. */
  runInShell(words: string[], stdin: Buffer, env: ShellEnv): RunResult {
    const [name, ...args] = words;
    if (name === 'exit') {
      const code = args.length ? Number(args[0]) & 255 : env.lastCode;
      return { ...ok(), code, exit: true };
    }
    if (name === ':') return ok();
    if (name === 'cd') {
      env.vars.PWD = args[0] ?? env.vars.HOME ?? '/';
      return ok();
    }
    if (name === 'export') {
      for (const a of args) {
        const eq = a.indexOf('=');
        if (eq > 0) env.vars[a.slice(0, eq)] = a.slice(eq + 1);
      }
      return ok();
    }
    const program = this.resolve(name);
    if (!program) {
      return env.shell === 'bash'
        ? fail(127, `bash: line 1: ${name}: command not found\n`)
        : fail(127, `sh: 1: ${name}: not found\n`);
    }
    return program(args, stdin, env);
  }
}

// ------------------------------------------------------------------ a minimal POSIX shell

type Token = { op: string } | { word: string; quoted: boolean };

/** Splits a script into words and operators, honouring quotes, backslashes and `$VAR` expansion. */
function tokenize(script: string, env: ShellEnv): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const expand = (): string => {
    // at '$'
    i++;
    if (script[i] === '?') {
      i++;
      return String(env.lastCode);
    }
    let name = '';
    if (script[i] === '{') {
      const end = script.indexOf('}', i);
      name = script.slice(i + 1, end < 0 ? script.length : end);
      i = end < 0 ? script.length : end + 1;
    } else {
      while (i < script.length && /[A-Za-z0-9_]/.test(script[i])) name += script[i++];
      if (!name) return '$';
    }
    return env.vars[name] ?? '';
  };
  while (i < script.length) {
    const c = script[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\n' || c === ';') {
      tokens.push({ op: ';' });
      i++;
      continue;
    }
    if (c === '#') {
      while (i < script.length && script[i] !== '\n') i++;
      continue;
    }
    const two = script.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      tokens.push({ op: two });
      i += 2;
      continue;
    }
    if (c === '|' || c === '&') {
      tokens.push({ op: c === '&' ? ';' : '|' });
      i++;
      continue;
    }
    const redirect = /^(?:[12]?>&[12]|[12]?>>?\s*\S+|<\s*\S+)/.exec(script.slice(i));
    if (redirect && (c === '>' || c === '<' || /^[12]>/.test(script.slice(i)))) {
      tokens.push({ op: `redir:${redirect[0].replace(/\s+/g, '')}` });
      i += redirect[0].length;
      continue;
    }
    let word = '';
    let quoted = false;
    while (i < script.length && !/[\s;&|]/.test(script[i])) {
      const ch = script[i];
      if (ch === "'") {
        quoted = true;
        const end = script.indexOf("'", i + 1);
        word += script.slice(i + 1, end < 0 ? script.length : end);
        i = end < 0 ? script.length : end + 1;
      } else if (ch === '"') {
        quoted = true;
        i++;
        while (i < script.length && script[i] !== '"') {
          if (script[i] === '\\' && /["\\$`]/.test(script[i + 1] ?? '')) {
            word += script[i + 1];
            i += 2;
          } else if (script[i] === '$') word += expand();
          else word += script[i++];
        }
        i++;
      } else if (ch === '\\') {
        word += script[i + 1] ?? '';
        i += 2;
      } else if (ch === '$') {
        word += expand();
      } else if (ch === '>' || ch === '<') {
        break;
      } else {
        word += ch;
        i++;
      }
    }
    if (word || quoted) tokens.push({ word, quoted });
  }
  return tokens;
}

function runScript(script: string, env: ShellEnv, os: GuestOs): RunResult {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let ms = 0;
  let code = 0;
  // statements separated by ; and chained by && / ||; variable expansion needs $? of the previous statement,
  // so the script is tokenized statement by statement
  const statements = splitStatements(script);
  for (const statement of statements) {
    const skip = (statement.op === '&&' && code !== 0) || (statement.op === '||' && code === 0);
    if (skip) continue;
    env.lastCode = code;
    const pipeline = tokenize(statement.text, env);
    const r = runPipeline(pipeline, env, os);
    out.push(r.stdout);
    err.push(r.stderr);
    ms += r.ms;
    code = r.code;
    if (r.forever) return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ms, forever: true };
    if (r.exit) break;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ms };
}

/** Splits at top-level `;`, `&&`, `||` (outside quotes), keeping the operator that leads into each part. */
function splitStatements(script: string): Array<{ op: string; text: string }> {
  const parts: Array<{ op: string; text: string }> = [];
  let op = ';';
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') current += script[i++];
      current += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    const two = script.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      parts.push({ op, text: current });
      op = two;
      current = '';
      i++;
      continue;
    }
    if (c === ';' || c === '\n' || (c === '&' && script[i + 1] !== '>' && script[i - 1] !== '>')) {
      parts.push({ op, text: current });
      op = ';';
      current = '';
      continue;
    }
    current += c;
  }
  parts.push({ op, text: current });
  return parts.filter((p) => p.text.trim());
}

/** Stages run side by side (the pipeline takes as long as its slowest stage); stdout feeds the next stdin. */
function runPipeline(tokens: Token[], env: ShellEnv, os: GuestOs): RunResult {
  const stages: Token[][] = [[]];
  for (const t of tokens) {
    if ('op' in t && t.op === '|') stages.push([]);
    else stages[stages.length - 1].push(t);
  }
  let stdin: Buffer = Buffer.alloc(0);
  const errors: Buffer[] = [];
  let ms = 0;
  let last: RunResult = ok();
  for (const [index, stage] of stages.entries()) {
    const words = stage.filter((t): t is { word: string; quoted: boolean } => 'word' in t).map((t) => t.word);
    const redirects = stage
      .filter((t): t is { op: string } => 'op' in t && t.op.startsWith('redir:'))
      .map((t) => t.op.slice('redir:'.length));
    if (!words.length) continue;
    const r = os.runInShell(words, stdin, { ...env, piped: index < stages.length - 1 });
    let { stdout, stderr } = r;
    for (const redirect of redirects) {
      if (redirect === '2>&1') {
        stdout = Buffer.concat([stdout, stderr]);
        stderr = Buffer.alloc(0);
      } else if (redirect === '>&2' || redirect === '1>&2') {
        stderr = Buffer.concat([stderr, stdout]);
        stdout = Buffer.alloc(0);
      } else if (/^1?>>?\/dev\/null$/.test(redirect)) {
        stdout = Buffer.alloc(0);
      } else if (/^2>>?\/dev\/null$/.test(redirect)) {
        stderr = Buffer.alloc(0);
      }
    }
    errors.push(stderr);
    ms = Math.max(ms, r.ms);
    stdin = stdout;
    last = { ...r, stdout, stderr };
    if (r.exit) break;
  }
  return { ...last, stderr: Buffer.concat(errors), ms };
}
