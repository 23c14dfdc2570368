import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';
import type { SimGuest } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import { splitShellWords } from './shell-words.js';

const { Server, utils } = ssh2;

/** What a client needs to log in and to pin the host key. */
export interface SimulatorSshInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `SHA256:…` of the host key, as `ssh-keygen -lf` prints it (the form `ssh.host_key_fingerprints` takes). */
  hostKeyFingerprint: string;
}

/** The kernel every simulated node runs (PVE 9.1), as `uname` inside a container reports it. */
const KERNEL = {
  release: '6.17.2-1-pve',
  version: '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)',
};

const OS_RELEASE: Record<string, string> = {
  debian:
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION="13 (trixie)"\n' +
    'VERSION_CODENAME=trixie\nDEBIAN_VERSION_FULL=13.1\nID=debian\nHOME_URL="https://www.debian.org/"\n' +
    'SUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n',
  ubuntu:
    'PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.3 LTS (Noble Numbat)"\n' +
    'VERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\n' +
    'UBUNTU_CODENAME=noble\n',
  alpine:
    'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.2\nPRETTY_NAME="Alpine Linux v3.22"\n' +
    'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n',
};

interface Outcome {
  code: number;
  stdout?: string;
  stderr?: string;
}

/**
 * The nodes' SSH side for `demo` (and anyone who wants it): an ssh2 `Server` that logs in one user with a password
 * and answers the command lines the container tools send, `[timeout …] [sudo -n] /usr/sbin/pct exec <vmid> -- <argv>`,
 * from the simulated cluster's state, as a node would: an unknown vmid or a VM gets pct's "Configuration file …
 * does not exist" (exit 255), a stopped container "CT <vmid> not running" (exit 255); inside a running container a
 * few programs answer (`uname`, `hostname`, `cat /etc/os-release`, `echo`, `id`, `uptime`, `true`, `false`) and any
 * other is "command not found" (exit 127). Nothing received is ever executed. One listener serves every node
 * (vmids are unique in a cluster); the host key is generated at start.
 */
export class SimulatorSsh {
  private readonly server: InstanceType<typeof Server>;
  private readonly connections = new Set<Connection>();
  private readonly password = randomBytes(18).toString('base64url');
  private readonly hostKey = generateHostKey();
  private port = 0;

  private constructor(
    private readonly cluster: ClusterState,
    private readonly host: string,
  ) {
    this.server = new Server({ hostKeys: [this.hostKey.private] }, (client) => this.onClient(client));
  }

  static async start(cluster: ClusterState, host: string): Promise<SimulatorSsh> {
    const endpoint = new SimulatorSsh(cluster, host);
    endpoint.server.listen(0, host);
    await once(endpoint.server, 'listening');
    endpoint.port = (endpoint.server.address() as AddressInfo).port;
    return endpoint;
  }

  get info(): SimulatorSshInfo {
    return {
      host: this.host,
      port: this.port,
      user: 'root',
      password: this.password,
      hostKeyFingerprint: this.hostKey.fingerprint,
    };
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(client: Connection): void {
    this.connections.add(client);
    client.on('error', () => undefined);
    client.on('close', () => this.connections.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === 'root' && sameText(ctx.password, this.password)) {
        return ctx.accept();
      }
      ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          channel.on('error', () => undefined);
          void this.answer(info.command, channel);
        });
      });
    });
  }

  private async answer(commandLine: string, channel: ServerChannel): Promise<void> {
    const chunks: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => chunks.push(chunk));
    const stdin = async () => {
      if (!channel.readableEnded) await once(channel, 'end');
      return Buffer.concat(chunks).toString('utf8');
    };
    const outcome = await this.run(commandLine, stdin);
    if (outcome.stdout) channel.write(outcome.stdout);
    if (outcome.stderr) channel.stderr.write(outcome.stderr);
    channel.exit(outcome.code);
    channel.end();
  }

  /** What the node does with one command line. */
  private async run(line: string, stdin: () => Promise<string>): Promise<Outcome> {
    const words = shellWords(line);
    if (typeof words === 'string') return { code: 2, stderr: `sh: 1: Syntax error: ${words}\n` };
    let i = 0;
    if (words[i] === 'timeout') {
      i++;
      while (words[i]?.startsWith('-')) i++;
      i++; // the duration
    }
    if (words[i] === 'sudo' && words[i + 1] === '-n') i += 2;
    const [program, ...args] = words.slice(i);
    if (program === undefined) return { code: 0 };
    if (program === 'true') return { code: 0 };
    if (program !== '/usr/sbin/pct' && program !== 'pct') {
      return { code: 127, stderr: `bash: line 1: ${program}: command not found\n` };
    }
    if (args[0] !== 'exec' || !/^\d+$/.test(args[1] ?? '') || args[2] !== '--' || args.length < 4) {
      return { code: 255, stderr: 'USAGE: pct exec <vmid> [<extra-args>] [OPTIONS]\n' };
    }
    const vmid = Number(args[1]);
    const guest = this.cluster.guest(vmid);
    if (!guest || guest.type !== 'lxc') {
      const node = guest?.node ?? this.cluster.nodes()[0]?.name ?? 'localhost';
      return { code: 255, stderr: `Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist\n` };
    }
    if (guest.status !== 'running') return { code: 255, stderr: `CT ${vmid} not running\n` };
    return inContainer(guest, args.slice(3), stdin);
  }
}

/** A program run inside a running container. */
async function inContainer(guest: SimGuest, argv: string[], stdin: () => Promise<string>): Promise<Outcome> {
  const [program, ...args] = argv;
  const hostname = String(guest.config.hostname ?? `CT${guest.vmid}`);
  const name = program.split('/').pop() ?? program;
  switch (name) {
    case 'echo':
      return { code: 0, stdout: `${args.join(' ')}\n` };
    case 'true':
      return { code: 0 };
    case 'false':
      return { code: 1 };
    case 'hostname':
      return { code: 0, stdout: `${hostname}\n` };
    case 'id':
      return { code: 0, stdout: 'uid=0(root) gid=0(root) groups=0(root)\n' };
    case 'uname':
      return uname(hostname, args);
    case 'uptime':
      return { code: 0, stdout: uptime(guest.startedAt) };
    case 'cat':
      return cat(guest, hostname, args, stdin);
    case 'sh':
    case 'bash':
      return { code: 2, stderr: `${name}: shell scripts are not simulated in this container\n` };
    default:
      return { code: 127, stderr: `${program}: command not found\n` };
  }
}

function uname(hostname: string, args: string[]): Outcome {
  const fields: Record<string, string> = {
    '-s': 'Linux',
    '-n': hostname,
    '-r': KERNEL.release,
    '-v': KERNEL.version,
    '-m': 'x86_64',
    '-o': 'GNU/Linux',
  };
  if (args.length === 0) return { code: 0, stdout: 'Linux\n' };
  if (args.length === 1 && args[0] === '-a') {
    return { code: 0, stdout: `Linux ${hostname} ${KERNEL.release} ${KERNEL.version} x86_64 GNU/Linux\n` };
  }
  const bad = args.find((a) => !(a in fields));
  if (bad) {
    return {
      code: 1,
      stderr: `uname: invalid option -- '${bad.replace(/^-+/, '')}'\nTry 'uname --help' for more information.\n`,
    };
  }
  return { code: 0, stdout: `${args.map((a) => fields[a]).join(' ')}\n` };
}

function uptime(startedAt: number): string {
  const now = new Date();
  const seconds = Math.max(0, Math.floor(now.getTime() / 1000) - startedAt);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const clock = now.toISOString().slice(11, 19);
  const since =
    (days ? `${days} day${days === 1 ? '' : 's'}, ` : '') +
    (hours ? `${String(hours).padStart(2)}:${String(minutes).padStart(2, '0')}` : `${minutes} min`);
  return ` ${clock} up ${since},  0 users,  load average: 0.00, 0.01, 0.00\n`;
}

async function cat(
  guest: SimGuest,
  hostname: string,
  args: string[],
  stdin: () => Promise<string>,
): Promise<Outcome> {
  if (args.length === 0) return { code: 0, stdout: await stdin() };
  const files: Record<string, string> = {
    '/etc/os-release': OS_RELEASE[String(guest.config.ostype)] ?? OS_RELEASE.debian,
    '/etc/hostname': `${hostname}\n`,
  };
  let stdout = '';
  let stderr = '';
  for (const file of args) {
    if (file in files) stdout += files[file];
    else stderr += `cat: ${file}: No such file or directory\n`;
  }
  return { code: stderr ? 1 : 0, stdout, stderr };
}

/**
 * Splits a command line the way sh does for the quoting our client writes ('…', "…", \x); an unquoted character
 * a shell would act on (; & | < > ` $ ( ) and line breaks) is a syntax error here, never run.
 */
export function shellWords(line: string): string[] | string {
  const words = splitShellWords(line, ';&|<>`$()\n\r');
  if (Array.isArray(words)) return words;
  switch (words.kind) {
    case 'unterminated':
      return 'unterminated quoted string';
    case 'trailing-backslash':
      return 'trailing backslash';
    case 'expansion-in-quotes':
      return `"${words.char}" is not simulated`;
    case 'unquoted':
      return `"${words.char === '\n' ? '\\n' : words.char}" unexpected`;
  }
}

function sameText(a: string, b: string): boolean {
  const [x, y] = [createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest()];
  return timingSafeEqual(x, y);
}

/**
 * An ed25519 host key. ssh2's generator writes a key its own parser refuses a few times in a thousand, so a pair
 * is taken only when it parses.
 */
function generateHostKey(): { private: string; fingerprint: string } {
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(pair.private);
    if (!(parsed instanceof Error)) {
      const blob = parsed.getPublicSSH();
      const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
      return { private: pair.private, fingerprint };
    }
    if (attempt >= 20) throw new Error('PVE simulator: could not generate an SSH host key');
  }
}
