import type { SimGuest } from './cluster-model.js';
import { guestFile } from './guest-files.js';
import { hostName, isWindows, KERNEL, OS_RELEASE } from './guest-os-info.js';
import {
  fail,
  ok,
  runScript,
  type Program,
  type RunResult,
  type ShellCommands,
  type ShellEnv,
} from './guest-shell.js';

const BIN_DIRS = ['/bin', '/usr/bin', '/sbin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];
const WIN_DIR = /^(?:[a-z]:\\windows\\system32\\)?/i;

/**
 * The OS inside a simulated VM, as the guest agent runs commands in it: which programs exist and what they print.
 * Linux guests have coreutils-like programs and `sh`/`bash -c` (guest-shell.ts); Windows guests (ostype w*) run
 * `cmd /c …` and a few PowerShell one-liners.
 */
export class GuestOs implements ShellCommands {
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
      const stored = guestFile(this.guest, name); // what file-write put there (guest-files.ts)
      if (stored) return { data: stored };
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
