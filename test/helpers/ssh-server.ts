import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import type { SshConfig } from '../../src/config/app-config.js';
import { sshFingerprint } from '../../src/proxmox/ssh/host-keys.js';
import { splitShellWords } from '../../src/simulator/shell-words.js';
import { AUTHORIZED_KEYS_SCRIPTS } from '../../src/modules/containers/container-exec.service.js';
import type { PveSimulator } from '../../src/simulator/index.js';
import { generateSshKeyPair } from './ssh-keys.js';

const { Server, utils } = ssh2;

/**
 * A real SSH server (ssh2's Server) that plays the Proxmox nodes for the container tools: one listener per node on
 * 127.0.0.N (same port, so the server's single `ssh.port` fits), each with its own ed25519 host key generated here.
 * It accepts a password or a public key, records the EXACT command line every exec request carries, parses it the
 * way a POSIX shell would (an unquoted shell metacharacter is recorded as an injection, never run) and answers
 * like `timeout … [sudo -n] /usr/sbin/pct exec <vmid> -- <argv>` would on a node: output, exit codes, a command
 * that never ends (ended by the `timeout` prefix, or when the client hangs up), 100 MB of output with backpressure, stderr,
 * "CT 101 not running" (exit 255) for a stopped container.
 *
 * Nothing a test sends is ever executed, with one exception: the fixed authorized_keys scripts of
 * update_container_ssh_keys run in a real /bin/sh, with /root pointing into a per-container temp directory, so
 * their behaviour (append once, replace atomically) is tested for real.
 */

/** Security table E1: payloads that must reach the program as literal arguments. */
export const INJECTION_PAYLOADS = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '|| true',
  '&& reboot',
  '> /etc/passwd',
  '\n reboot',
  "'",
  '"',
  "'\\''",
  '$HOME ${PATH} $((1+1))',
  'a\\b\\\\c',
  '*',
  '~root',
  '#comment',
  '',
  ' leading and trailing ',
  'tab\there',
  'ünïcödé ✓',
  '\r\n',
];

/** A FakeNodes `status` reader backed by a simulator: the container's state as PVE has it (undefined: not there). */
export function containerStatusFrom(getSim: () => PveSimulator | undefined) {
  return (node: string, vmid: number) => {
    const g = getSim()?.cluster.guest(vmid);
    return g && g.type === 'lxc' && g.node === node ? g.status : undefined;
  };
}

export const NODE_USER = 'mcp-agent';
export const NODE_PASSWORD = 'node-login-secret-9f3a';

export interface ExecRecord {
  node: string;
  user: string;
  /** The command line exactly as received. */
  commandLine: string;
  /** Words after `--`, when the line parsed as our pct exec form. */
  argv?: string[];
  /** The program and arguments of a command run on the node itself (`timeout … [sudo -n ]<program> …`, no pct). */
  nodeArgv?: string[];
  vmid?: number;
  timeoutSeconds?: number;
  sudo?: boolean;
  /** Set when the line holds an unquoted shell metacharacter (a real shell would have interpreted it). */
  injection?: string;
  stdin: Buffer;
}

export interface FakeNodesOptions {
  nodes: string[];
  /** Whether a container runs on that node (undefined: no such container there). */
  containerStatus: (node: string, vmid: number) => 'running' | 'stopped' | undefined;
  /** The public key accepted for NODE_USER (besides NODE_PASSWORD). */
  clientKey?: ParsedKey;
  /** Emulate a node without coreutils `timeout` doing its job: the command keeps running until we hang up. */
  ignoreTimeout?: boolean;
  /** sudo answers "a password is required" (no NOPASSWD rule). */
  sudoNeedsPassword?: boolean;
}

interface NodeListener {
  node: string;
  address: string;
  server: InstanceType<typeof Server>;
  hostKey: ParsedKey;
  fingerprint: string;
  publicLine: string;
}

export class FakeNodes {
  readonly records: ExecRecord[] = [];
  /** Per container: the temp directory that is its /root (for the authorized_keys scripts). */
  readonly roots = new Map<number, string>();
  readonly options: FakeNodesOptions;
  port = 0;
  private readonly listeners: NodeListener[] = [];
  private readonly connections = new Set<Connection>();
  private readonly tempDir = mkdtempSync(join(tmpdir(), 'fake-nodes-'));

  private constructor(options: FakeNodesOptions) {
    this.options = options;
  }

  static async start(options: FakeNodesOptions): Promise<FakeNodes> {
    const fake = new FakeNodes(options);
    for (let attempt = 0; ; attempt++) {
      try {
        await fake.listenAll();
        return fake;
      } catch (error) {
        await fake.closeListeners();
        if (attempt >= 5 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      }
    }
  }

  /** 127.0.0.1 for the first node, 127.0.0.2 for the second, … (host_overrides in the server's config). */
  address(node: string): string {
    return this.listener(node).address;
  }

  hostOverrides(): Record<string, string> {
    return Object.fromEntries(this.listeners.map((l) => [l.node, l.address]));
  }

  /** `SHA256:…` of the node's host key, as ssh-keygen -lf prints it. */
  fingerprint(node: string): string {
    return this.listener(node).fingerprint;
  }

  /**
   * The server's `ssh` section for these nodes: NODE_USER with NODE_PASSWORD, their loopback addresses, sudo, and
   * every node's host key pinned; `overrides` replaces any of it.
   */
  sshConfig(overrides: Partial<SshConfig> = {}): SshConfig {
    return {
      user: NODE_USER,
      port: this.port,
      password: NODE_PASSWORD,
      hostOverrides: this.hostOverrides(),
      useSudo: true,
      strictHostKeyChecking: true,
      hostKeyFingerprints: Object.fromEntries(this.listeners.map((l) => [l.node, l.fingerprint])),
      ...overrides,
    };
  }

  /** A known_hosts line for the node (`[127.0.0.2]:port ssh-ed25519 AAAA…`). */
  knownHostsLine(node: string): string {
    const l = this.listener(node);
    return `[${l.address}]:${this.port} ${l.publicLine}`;
  }

  /** The public key line of a node's host key (`ssh-ed25519 AAAA…`). */
  publicKeyLine(node: string): string {
    return this.listener(node).publicLine;
  }

  /** The authorized_keys file of a container as the scripts left it ('' when there is none). */
  authorizedKeys(vmid: number): string {
    const root = this.roots.get(vmid);
    if (!root) return '';
    try {
      return readFileSync(join(root, '.ssh', 'authorized_keys'), 'utf8');
    } catch {
      return '';
    }
  }

  lastRecord(): ExecRecord | undefined {
    return this.records.at(-1);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.end();
    await this.closeListeners();
    rmSync(this.tempDir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------------------------------

  private listener(node: string): NodeListener {
    const l = this.listeners.find((x) => x.node === node);
    if (!l) throw new Error(`FakeNodes: no node ${node}`);
    return l;
  }

  private async listenAll(): Promise<void> {
    this.port = 0;
    for (const [index, node] of this.options.nodes.entries()) {
      const address = `127.0.0.${index + 1}`;
      const generated = generateSshKeyPair('ed25519');
      const hostKey = utils.parseKey(generated.private) as ParsedKey;
      const blob = hostKey.getPublicSSH();
      const server = new Server({ hostKeys: [generated.private] }, (client) => this.onClient(node, client));
      server.listen(this.port, address);
      await once(server, 'listening');
      if (!this.port) this.port = (server.address() as AddressInfo).port;
      this.listeners.push({
        node,
        address,
        server,
        hostKey,
        fingerprint: sshFingerprint(blob),
        publicLine: `${hostKey.type} ${blob.toString('base64')}`,
      });
    }
  }

  private async closeListeners(): Promise<void> {
    await Promise.all(
      this.listeners.splice(0).map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))),
    );
  }

  private onClient(node: string, client: Connection): void {
    this.connections.add(client);
    // a handshake the client refuses (host key not trusted) ends here with an error: never crash the test run
    client.on('error', () => undefined);
    client.on('close', () => this.connections.delete(client));
    let user = '';
    client.on('authentication', (ctx) => {
      user = ctx.username;
      if (ctx.username !== NODE_USER) return ctx.reject(['password', 'publickey']);
      if (ctx.method === 'password' && ctx.password === NODE_PASSWORD) return ctx.accept();
      if (ctx.method === 'publickey' && this.options.clientKey) {
        const key = this.options.clientKey;
        if (ctx.key.algo !== key.type || !ctx.key.data.equals(key.getPublicSSH())) return ctx.reject();
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // the "would you accept this key" probe
        return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject();
      }
      ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        // (ssh2's Server ignores `signal` requests once exec runs, so signals cannot be played here)
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          const record: ExecRecord = {
            node,
            user,
            commandLine: info.command,
            stdin: Buffer.alloc(0),
            ...parseCommandLine(info.command),
          };
          this.records.push(record);
          const chunks: Buffer[] = [];
          channel.on('data', (chunk: Buffer) => chunks.push(chunk));
          channel.on('error', () => undefined);
          const stdinDone = once(channel, 'end').then(() => {
            record.stdin = Buffer.concat(chunks);
          });
          void this.run(record, channel, stdinDone);
        });
      });
    });
  }

  /** What the node does with one exec request. */
  private async run(record: ExecRecord, channel: ServerChannel, stdinDone: Promise<void>): Promise<void> {
    const finish = (code: number, stdout = '', stderr = '') => {
      if (stdout) channel.write(stdout);
      if (stderr) channel.stderr.write(stderr);
      channel.exit(code);
      channel.end();
    };
    // `proxmox-mcp-plus doctor`'s login check
    if (record.commandLine === 'true') return finish(0);
    if (record.commandLine === 'sudo -n true') {
      return this.options.sudoNeedsPassword ? finish(1, '', 'sudo: a password is required\n') : finish(0);
    }
    if (record.injection || (!record.nodeArgv && (!record.argv || record.vmid === undefined))) {
      return finish(2, '', `sh: 1: unexpected command line (${record.injection ?? 'not a pct exec line'})\n`);
    }
    if (record.sudo && this.options.sudoNeedsPassword) {
      return finish(1, '', 'sudo: a password is required\n');
    }
    if (!record.nodeArgv) {
      const status = this.options.containerStatus(record.node, record.vmid!);
      if (status === undefined) {
        return finish(
          255,
          '',
          `Configuration file 'nodes/${record.node}/lxc/${record.vmid}.conf' does not exist\n`,
        );
      }
      if (status !== 'running') return finish(255, '', `CT ${record.vmid} not running\n`);
    }

    // the node's `timeout` ends the command at its deadline with 124 (unless emulating a node where it does not)
    let ended = false;
    let stop: (() => void) | undefined;
    const end = (code: number) => {
      if (ended) return;
      ended = true;
      stop?.();
      channel.exit(code);
      channel.end();
    };
    const deadline =
      record.timeoutSeconds && !this.options.ignoreTimeout
        ? setTimeout(() => end(124), record.timeoutSeconds * 1000)
        : undefined;
    channel.on('close', () => {
      ended = true;
      stop?.();
      clearTimeout(deadline);
    });

    const [program, ...args] = record.nodeArgv ?? record.argv ?? [];
    const done = (code: number, stdout = '', stderr = '') => {
      if (ended) return;
      if (stdout) channel.write(stdout);
      if (stderr) channel.stderr.write(stderr);
      clearTimeout(deadline);
      end(code);
    };
    switch (program) {
      case 'echo':
        return done(0, `${args.join(' ')}\n`);
      case 'uname':
        return done(
          0,
          `Linux ${record.nodeArgv ? record.node : `ct-${record.vmid}`} 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n`,
        );
      case 'pveversion':
        // the node itself (execute_node_command)
        return done(0, 'pve-manager/9.1.1/42db4a6cf33dac83 (running kernel: 6.17.2-1-pve)\n');
      case 'cat':
        await stdinDone;
        return done(0, record.stdin.toString('utf8'));
      case 'false':
        return done(1);
      case 'ls':
        return done(2, '', `ls: cannot access '${args.at(-1) ?? ''}': No such file or directory\n`);
      case 'sleep':
        // never ends by itself: only the timeout, a signal or a hang-up stop it
        stop = () => clearTimeout(deadline);
        return;
      case 'head': {
        // head -c <bytes> /dev/zero: a flood of output, written with backpressure
        const total = Number(args[1]);
        stop = () => undefined;
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        while (sent < total && !ended) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (!channel.write(chunk.subarray(0, n))) await once(channel, 'drain');
        }
        return done(0);
      }
      case '/bin/sh':
        return this.shell(record, args, stdinDone, done);
      default:
        return done(
          127,
          '',
          `lxc-attach: ${record.vmid}: ../src/lxc/attach.c: lxc_attach_run_command: 1841 No such file or directory - Failed to exec "${program}"\n`,
        );
    }
  }

  private async shell(
    record: ExecRecord,
    args: string[],
    stdinDone: Promise<void>,
    done: (code: number, stdout?: string, stderr?: string) => void,
  ): Promise<void> {
    const script = args[1];
    if (args[0] !== '-c' || script === undefined) return done(2, '', 'sh: 0: Illegal option\n');
    const mode = (Object.keys(AUTHORIZED_KEYS_SCRIPTS) as Array<keyof typeof AUTHORIZED_KEYS_SCRIPTS>).find(
      (m) => AUTHORIZED_KEYS_SCRIPTS[m] === script,
    );
    if (!mode) {
      // any other script is answered with itself, so tests see exactly what reached the container's shell
      const exit = /^exit (\d+)$/.exec(script);
      if (exit) return done(Number(exit[1]));
      return done(0, `sh -c received: ${script}\n`);
    }
    await stdinDone;
    const root = this.rootOf(record.vmid!);
    const local = script.replaceAll('/root/.ssh', `${root}/.ssh`);
    const child = execFile('/bin/sh', ['-c', local], { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done(code, stdout, stderr);
    });
    child.stdin?.end(record.stdin);
  }

  private rootOf(vmid: number): string {
    let root = this.roots.get(vmid);
    if (!root) {
      root = join(this.tempDir, `ct${vmid}-root`);
      mkdirSync(root, { recursive: true });
      this.roots.set(vmid, root);
    }
    return root;
  }
}

/**
 * Parses `timeout --kill-after=Ks Ts [sudo -n ]/usr/sbin/pct exec <vmid> -- <words…>` (or, for a command on the
 * node itself, `timeout --kill-after=Ks Ts [sudo -n ]<words…>`) the way sh would split it.
 * Quotes ('…', "…", \x) are honoured; an unquoted ; & | < > ` $ ( ) or newline is what a shell would act on, so
 * it is reported as an injection instead of being split on.
 */
export function parseCommandLine(line: string): Partial<ExecRecord> {
  const words = shellWords(line);
  if (typeof words === 'string') return { injection: words };
  const m = /^--kill-after=(\d+)s$/.exec(words[1] ?? '');
  if (words[0] !== 'timeout' || !m || !/^\d+s$/.test(words[2] ?? '')) return {};
  let i = 3;
  let sudo = false;
  if (words[i] === 'sudo' && words[i + 1] === '-n') {
    sudo = true;
    i += 2;
  }
  const timeoutSeconds = Number(words[2].slice(0, -1));
  // a command on the node itself (execute_node_command): no pct
  if (words[i] !== '/usr/sbin/pct' && words[i] !== undefined) {
    return { timeoutSeconds, sudo, nodeArgv: words.slice(i) };
  }
  if (words[i] !== '/usr/sbin/pct' || words[i + 1] !== 'exec' || words[i + 3] !== '--') return {};
  if (!/^\d+$/.test(words[i + 2] ?? '')) return {};
  return {
    timeoutSeconds,
    sudo,
    vmid: Number(words[i + 2]),
    argv: words.slice(i + 4),
  };
}

/** The simulator's split, refusing also what a shell would glob, expand or comment out. */
function shellWords(line: string): string[] | string {
  const words = splitShellWords(line, ';&|<>`$()\n\r*?[]{}~#');
  if (Array.isArray(words)) return words;
  switch (words.kind) {
    case 'unterminated':
      return words.quote === "'" ? 'unterminated single quote' : 'unterminated double quote';
    case 'trailing-backslash':
      return 'trailing backslash';
    case 'expansion-in-quotes':
      return `'${words.char}' inside double quotes`;
    case 'unquoted':
      return `unquoted '${words.char === '\n' ? '\\n' : words.char}' at ${words.at}`;
  }
}
