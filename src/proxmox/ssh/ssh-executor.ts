import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Client as SshClient, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { approvalCheckpoint } from '../../common/context/call-context.js';
import { plannedCommand } from '../../common/plan/plan-mode.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig, type SshConfig } from '../../config/app-config.js';
import {
  decideHostKey,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  type HostKeyDecision,
  type HostKeyPolicy,
} from './host-keys.js';
import { DEFAULT_KILL_AFTER_SECONDS } from './shell-quote.js';

let ssh2Module: Promise<typeof import('ssh2')> | undefined;
/**
 * ssh2 loads with the first SSH command, not at start-up: most servers never run one, and it brings a 16 MB
 * WebAssembly heap (its poly1305) with it (issue 18, RSS).
 */
const loadSsh2 = (): Promise<typeof import('ssh2')> =>
  (ssh2Module ??= import('ssh2').then((module) => module.default));

/** Seconds for TCP connect + key exchange + authentication when `ssh.connect_timeout` is not set. */
export const DEFAULT_SSH_CONNECT_TIMEOUT_SECONDS = 10;
/** After the node's own `timeout` should have killed the command, how long we still wait before hanging up. */
const HANG_UP_GRACE_MS = 2000;
/** ssh2's host key algorithms, in its default order (it does not export the list). */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export interface SshRunRequest {
  /** The PVE node: picks the host (ssh.host_overrides, else the node name) and the pinned host key. */
  node: string;
  /** The whole command line (e.g. from pctExecLine); the node's login shell parses it. */
  command: string;
  /** Sent on the channel's stdin, then EOF (always EOF, so a command that reads stdin never waits for us). */
  stdin?: string | Buffer;
  /**
   * Wall-clock seconds the command may run. The command line should enforce the same on the node (`timeout`);
   * we hang up `killAfterSeconds` + 2 s later if the node did not end it.
   */
  timeoutSeconds: number;
  killAfterSeconds?: number;
  /** Bytes of stdout and of stderr kept (each); the rest is read and dropped so the node never blocks. */
  maxOutputBytes: number;
  /** Aborts the call (the MCP request was cancelled or the HTTP client went away): we hang up at once. */
  signal?: AbortSignal;
  /** What this run is for, in log lines (e.g. `pct exec 101`); never the command text. */
  purpose: string;
}

export interface SshRunResult {
  host: string;
  port: number;
  /** The command's exit code; null when it ended by a signal or we hung up first. */
  exitCode: number | null;
  /** The signal that ended it on the node (`KILL`, `TERM`, …), if the server reported one. */
  exitSignal?: string;
  stdout: Buffer;
  stderr: Buffer;
  /** Bytes the node sent, including those dropped beyond the cap. */
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** The wall-clock limit passed before the command ended. */
  timedOut: boolean;
  durationMs: number;
}

/**
 * Runs one command on a Proxmox node over SSH (ssh2, no OpenSSH binary): a fresh connection per call, the node's
 * host key checked against the pins and known_hosts before anything is sent (host-keys.ts), password or key
 * authentication, stdout/stderr capped, a wall-clock deadline. Every failure is a DomainError whose message names
 * the node, host and what to fix, and never contains a password, passphrase, key or the command text (the command
 * is logged only with logging.log_commands).
 */
@Injectable()
export class SshExecutor {
  private readonly logger = new Logger('SshExecutor');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** NOT_IMPLEMENTED (naming the missing `ssh` section) unless SSH to the nodes is configured. */
  assertConfigured(): void {
    this.requireConfig();
  }

  /** The host and port a node is reached at. */
  endpoint(node: string): { host: string; port: number } {
    const ssh = this.requireConfig();
    return { host: ssh.hostOverrides[node] ?? node, port: ssh.port };
  }

  async run(request: SshRunRequest): Promise<SshRunResult> {
    const ssh = this.requireConfig();
    const { host, port } = this.endpoint(request.node);
    const where = `node ${request.node} (${ssh.user}@${formatHost(host)}:${port})`;
    const policy = await this.hostKeyPolicy(ssh, request.node, host, port);
    const auth = await this.credentials(ssh);
    if (this.config.logging.logCommands) {
      this.logger.log(`ssh ${where}: ${request.purpose}: ${request.command}`);
    } else {
      this.logger.debug(`ssh ${where}: ${request.purpose}`);
    }

    const { Client } = await loadSsh2();
    const client = new Client();
    // an 'error' event without a listener would crash the process; the handlers below decide what it means
    client.on('error', () => undefined);
    let decision: HostKeyDecision | undefined;
    const started = Date.now();
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error & { level?: string; code?: string }) => {
          client.removeListener('ready', onReady);
          reject(this.connectError(error, decision, where, request.node, host, port, ssh));
        };
        const onReady = () => {
          client.removeListener('error', onError);
          resolve();
        };
        client.once('ready', onReady);
        client.once('error', onError);
        if (auth.password !== undefined) {
          // some sshd configurations offer only keyboard-interactive for passwords
          client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) =>
            finish(prompts.map(() => auth.password ?? '')),
          );
        }
        const connect: ConnectConfig = {
          host,
          port,
          username: ssh.user,
          readyTimeout: (ssh.connectTimeoutSeconds ?? DEFAULT_SSH_CONNECT_TIMEOUT_SECONDS) * 1000,
          keepaliveInterval: 15_000,
          keepaliveCountMax: 3,
          algorithms: {
            serverHostKey: preferredHostKeyAlgorithms(
              policy,
              HOST_KEY_ALGORITHMS,
            ) as ServerHostKeyAlgorithm[],
          },
          hostVerifier: (key: Buffer) => {
            decision = decideHostKey(key, policy);
            return decision.trusted;
          },
          ...(auth.privateKey
            ? { privateKey: auth.privateKey, ...(auth.passphrase ? { passphrase: auth.passphrase } : {}) }
            : { password: auth.password, tryKeyboard: true }),
        };
        client.connect(connect);
      });
      if (request.signal?.aborted) throw cancelled(where);
      // a dry run records the command (redacted) after a successful login and does not run it (src/common/plan)
      if (plannedCommand(request.node, request.purpose, request.command)) return plannedRun(host, port);
      // the node answered and took our login: a gated call is approved (or refused) now, before the command runs
      await approvalCheckpoint();
      // errors after the handshake (connection lost) surface through the exec promise
      return await this.exec(client, request, where, host, port, started);
    } finally {
      client.end();
    }
  }

  private exec(
    client: SshClient,
    request: SshRunRequest,
    where: string,
    host: string,
    port: number,
    started: number,
  ): Promise<SshRunResult> {
    return new Promise<SshRunResult>((resolve, reject) => {
      const out = new CappedBuffer(request.maxOutputBytes);
      const err = new CappedBuffer(request.maxOutputBytes);
      let exitCode: number | null = null;
      let exitSignal: string | undefined;
      let timedOut = false;
      let settled = false;
      let channel: ClientChannel | undefined;
      const killAfter = request.killAfterSeconds ?? DEFAULT_KILL_AFTER_SECONDS;

      const finish = (error?: DomainError) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(hangUp);
        request.signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', onConnectionError);
        if (error) {
          reject(error);
          return;
        }
        const durationMs = Date.now() - started;
        this.logger.debug(
          `ssh ${where}: ${request.purpose} ended: exit ${exitCode ?? exitSignal ?? 'none'}${timedOut ? ' (timed out)' : ''}, ` +
            `stdout ${out.total} B, stderr ${err.total} B, ${durationMs} ms`,
        );
        resolve({
          host,
          port,
          exitCode,
          ...(exitSignal ? { exitSignal } : {}),
          stdout: out.bytes(),
          stderr: err.bytes(),
          stdoutBytes: out.total,
          stderrBytes: err.total,
          stdoutTruncated: out.truncated,
          stderrTruncated: err.truncated,
          timedOut,
          durationMs,
        });
      };
      // The node's `timeout` ends the command at the deadline; we only note the time. If the node does not end it
      // (no coreutils timeout, a wedged pct), we ask sshd to KILL the session and hang up a little later.
      const deadline = setTimeout(() => {
        timedOut = true;
      }, request.timeoutSeconds * 1000);
      const hangUp = setTimeout(
        () => {
          timedOut = true;
          trySignal(channel, 'KILL');
          channel?.close();
          finish();
        },
        (request.timeoutSeconds + killAfter) * 1000 + HANG_UP_GRACE_MS,
      );
      const onAbort = () => {
        trySignal(channel, 'KILL');
        channel?.close();
        finish(cancelled(where));
      };
      const onConnectionError = (error: Error) => {
        finish(
          new DomainError(
            'UPSTREAM_UNAVAILABLE',
            `The SSH connection to ${where} was lost: ${error.message}`,
            {
              hint: 'Retry; if it persists, check the node and the network between this server and it.',
            },
          ),
        );
      };
      client.on('error', onConnectionError);
      request.signal?.addEventListener('abort', onAbort, { once: true });

      client.exec(request.command, (error, ch) => {
        if (error) {
          finish(
            new DomainError('UPSTREAM_ERROR', `${where} refused to run the command: ${error.message}`, {
              hint: 'Check that sshd on the node allows command execution for this user (no ForceCommand).',
            }),
          );
          return;
        }
        channel = ch;
        ch.on('data', (chunk: Buffer) => out.add(chunk));
        ch.stderr.on('data', (chunk: Buffer) => err.add(chunk));
        ch.on('exit', (code: number | null, signalName?: string) => {
          if (typeof code === 'number') exitCode = code;
          else if (signalName) exitSignal = signalName;
        });
        ch.on('close', () => finish());
        if (request.stdin !== undefined) ch.end(request.stdin);
        else ch.end();
      });
    });
  }

  /** Pin for this node, or known_hosts (read on every connect, so an operator's edit applies at once). */
  private async hostKeyPolicy(
    ssh: SshConfig,
    node: string,
    host: string,
    port: number,
  ): Promise<HostKeyPolicy> {
    const names = [...new Set([knownHostsName(host, port), knownHostsName(node, port)])];
    const pin = ssh.hostKeyFingerprints[node];
    if (pin !== undefined) return { pin, names };
    if (!ssh.knownHostsFile) return { names };
    let text: string;
    try {
      text = await readFile(ssh.knownHostsFile, 'utf8');
    } catch (error) {
      throw new DomainError(
        'UPSTREAM_TLS',
        `The SSH known_hosts file (ssh.known_hosts_file) cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        { hint: 'An operator must fix ssh.known_hosts_file; no node key is trusted without it.' },
      );
    }
    return { knownHosts: parseKnownHosts(text), names };
  }

  /** The key (checked to parse with the passphrase, so a wrong one is named here) or the password. */
  private async credentials(
    ssh: SshConfig,
  ): Promise<{ privateKey?: Buffer; passphrase?: string; password?: string }> {
    if (ssh.keyFile) {
      let key: Buffer;
      try {
        key = await readFile(ssh.keyFile);
      } catch (error) {
        throw new DomainError(
          'UPSTREAM_AUTH',
          `The SSH private key (ssh.key_file) cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
          { hint: 'An operator must fix ssh.key_file.' },
        );
      }
      const { utils } = await loadSsh2();
      const parsed = utils.parseKey(key, ssh.keyPassphrase);
      if (parsed instanceof Error) {
        const encrypted = /encrypted|passphrase/i.test(parsed.message);
        throw new DomainError(
          'UPSTREAM_AUTH',
          encrypted
            ? 'The SSH private key (ssh.key_file) is encrypted and ssh.key_passphrase is missing or wrong'
            : 'The SSH private key (ssh.key_file) is not a private key ssh2 can read (OpenSSH, PEM or PuTTY format)',
          { hint: 'An operator must fix ssh.key_file / ssh.key_passphrase.' },
        );
      }
      return { privateKey: key, ...(ssh.keyPassphrase ? { passphrase: ssh.keyPassphrase } : {}) };
    }
    if (ssh.password !== undefined) return { password: ssh.password };
    throw new DomainError('UPSTREAM_AUTH', 'SSH has no credentials: set ssh.key_file (or ssh.password)', {
      hint: 'An operator must configure ssh.key_file (preferred) or ssh.password.',
    });
  }

  private connectError(
    error: Error & { level?: string; code?: string },
    decision: HostKeyDecision | undefined,
    where: string,
    node: string,
    host: string,
    port: number,
    ssh: SshConfig,
  ): DomainError {
    if (decision && !decision.trusted) return hostKeyError(decision, where, node, host, port, ssh);
    if (error.level === 'client-authentication') {
      return new DomainError(
        'UPSTREAM_AUTH',
        `SSH login to ${where} was refused (${ssh.keyFile ? 'public key' : 'password'} authentication failed)`,
        {
          hint: `An operator must check that user '${ssh.user}' may log in on ${node} with the configured ${ssh.keyFile ? 'key (authorized_keys)' : 'password'}.`,
        },
      );
    }
    if (error.level === 'client-timeout') {
      return new DomainError(
        'UPSTREAM_UNAVAILABLE',
        `No SSH answer from ${where} within ${ssh.connectTimeoutSeconds ?? DEFAULT_SSH_CONNECT_TIMEOUT_SECONDS} s`,
        {
          hint: 'Check that the node is up and sshd is reachable from this server (ssh.host_overrides, ssh.port).',
        },
      );
    }
    const reason = error.code ? socketReason(error.code) : error.message;
    return new DomainError('UPSTREAM_UNAVAILABLE', `Cannot reach ${where} over SSH: ${reason}`, {
      hint: 'Check that the node is up and sshd is reachable from this server (ssh.host_overrides, ssh.port).',
      details: { host, port, ...(error.code ? { error_code: error.code } : {}) },
    });
  }

  private requireConfig(): SshConfig {
    if (!this.config.ssh) {
      throw new DomainError('NOT_IMPLEMENTED', 'SSH to the Proxmox nodes is not configured on this server', {
        hint: 'An operator enables it with an `ssh` section in the configuration (user, key_file, known_hosts_file or host_key_fingerprints).',
      });
    }
    return this.config.ssh;
  }
}

/** The refusal of an untrusted host key: names what was seen (and expected) so an operator can compare. */
function hostKeyError(
  decision: Extract<HostKeyDecision, { trusted: false }>,
  where: string,
  node: string,
  host: string,
  port: number,
  ssh: SshConfig,
): DomainError {
  const seen = `${decision.seen} (${decision.keyType})`;
  const keyscan = `ssh-keyscan -p ${port} ${formatHost(host)} | ssh-keygen -lf -`;
  const messages = {
    pin_mismatch: `The SSH host key of ${where} does not match ssh.host_key_fingerprints.${node}: expected ${decision.expected?.[0]}, the node presented ${seen}`,
    changed: `The SSH host key of ${where} has changed: known_hosts lists ${decision.expected?.join(', ')}, the node presented ${seen}`,
    revoked: `The SSH host key of ${where} is marked @revoked in known_hosts: ${seen}`,
    unknown: `The SSH host key of ${where} is not trusted: the node presented ${seen}, which is neither pinned (ssh.host_key_fingerprints.${node}) nor in ${ssh.knownHostsFile ? 'ssh.known_hosts_file' : 'a known_hosts file (ssh.known_hosts_file is not set)'}`,
  } as const;
  const hint =
    decision.reason === 'unknown'
      ? `Nothing was sent. If ${decision.seen} is the node's real key (check on the node: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), an operator pins it in ssh.host_key_fingerprints.${node} or adds \`${keyscan.replace(' | ssh-keygen -lf -', '')}\` to known_hosts.`
      : 'Nothing was sent. A key that changed without a node reinstall may mean the connection is intercepted; an operator must verify the key on the node before updating the configuration.';
  return new DomainError('UPSTREAM_TLS', messages[decision.reason], {
    hint,
    details: {
      ssh_host_key: decision.reason,
      seen_fingerprint: decision.seen,
      key_type: decision.keyType,
      ...(decision.expected ? { expected: decision.expected } : {}),
    },
  });
}

function cancelled(where: string): DomainError {
  return new DomainError('TIMEOUT', `The call was cancelled; the SSH session to ${where} was closed`);
}

/**
 * Asks sshd to deliver a signal to the command (OpenSSH >= 8.1 honours it; older servers ignore it). ssh2's
 * channel.signal() sends nothing once our side sent EOF (it checks `writable`), and we always send EOF on stdin,
 * so the request goes through the channel's protocol object directly while the channel is open.
 */
function trySignal(channel: ClientChannel | undefined, name: string): void {
  const internal = channel as unknown as
    | {
        outgoing?: { id: number; state: string };
        _client?: { _protocol?: { signal(id: number, name: string): void } };
      }
    | undefined;
  try {
    const state = internal?.outgoing?.state;
    if (state === 'open' || state === 'eof')
      internal?._client?._protocol?.signal(internal.outgoing!.id, name);
  } catch {
    // best effort: the connection may be gone already
  }
}

function socketReason(code: string): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is sshd running, is ssh.port right?)',
    ENOTFOUND: 'the host name does not resolve (set ssh.host_overrides for this node)',
    EAI_AGAIN: 'the host name does not resolve right now (DNS)',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    ECONNRESET: 'the connection was reset',
  };
  return reasons[code] ?? code;
}

const formatHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** Keeps the first `cap` bytes and counts the rest, so memory stays flat whatever the node sends. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly cap: number) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }
}

/** The answer of a command a dry run did not run: exit 0, no output. */
function plannedRun(host: string, port: number): SshRunResult {
  const empty = Buffer.alloc(0);
  return {
    host,
    port,
    exitCode: 0,
    stdout: empty,
    stderr: empty,
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutTruncated: false,
    stderrTruncated: false,
    timedOut: false,
    durationMs: 0,
  };
}
