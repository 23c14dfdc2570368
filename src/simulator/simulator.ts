import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { SshConfig, TargetConfig } from '../config/app-config.js';
import { TokenAccess, type TokenAcl } from './access.js';
import { formatTokenSpec, parseTokenSpec, type ApiToken } from './auth.js';
import { simulatorCertificate } from './certificate.js';
import type { ClusterState } from './cluster-state.js';
import { FaultController } from './faults.js';
import { SimLogs } from './logs.js';
import { buildRouter } from './handlers/index.js';
import { RequestLog, type RecordedRequest, type RequestFilter } from './request-log.js';
import { PveApiSchema } from './schema-validator.js';
import { seedCluster } from './seed.js';
import { ApiServer } from './server.js';
import { SimulatorSsh, type SimulatorSshInfo } from './ssh-endpoint.js';
import { TaskRunner } from './tasks.js';

export interface SimulatorOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Cluster size: pve1..pveN (default 3). */
  nodes?: number;
  /** Guests, vmids from 100, qemu and lxc alternating (default 12). */
  guests?: number;
  /** How long a task runs (default 2; 0 = it finishes on the next tick). */
  taskSeconds?: number;
  /** 'user@realm!name=secret'; default root@pam!mcp with a random UUID secret. */
  token?: string;
  /** apidoc.json to check every request against; default process.env.PVE_API_SCHEMA; null = no checks. */
  schemaPath?: string | null;
  /** One node without corosync: /cluster/status has no `cluster` entry. */
  standalone?: boolean;
  /** Same seed, same cluster (default 1). */
  seed?: number;
  /** Delay of 401 answers; PVE waits 3000 ms, tests want 0 (the default). */
  authFailureDelayMs?: number;
  /**
   * The API token's ACL, path → privileges (each propagates down), as GET /access/permissions reports it.
   * Default: every privilege on `/` (an administrator's token). Change it later with `sim.access.set(acl)`.
   */
  acl?: TokenAcl;
  /**
   * Also an SSH endpoint on `host` that plays the nodes' `pct exec` for the container tools (ssh-endpoint.ts):
   * user root, a random password, a generated host key (`sim.ssh`, `simulatorSshConfig(sim)`).
   */
  ssh?: boolean;
}

export const NO_SCHEMA_WARNING =
  'PVE simulator: no PVE_API_SCHEMA file; requests are not checked against the real API schema';
let warnedNoSchema = false;

/**
 * A stateful HTTPS simulator of the Proxmox VE 9.1 API under /api2/json, for tests, `proxmox-mcp-plus simulator`
 * and `demo`, and benchmarks. It refuses what real PVE refuses: every request is checked against the PVE schema
 * (when a schema file is available), with PVE's 401/501/400/500/595 answers.
 */
export class PveSimulator {
  /** e.g. https://127.0.0.1:41234 (without /api2/json). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** SHA-256 of the leaf certificate, upper-case colon hex (AA:BB:…). */
  readonly fingerprint: string;
  /** The self-signed certificate, for clients that trust it as a CA (`new Agent({ connect: { ca } })`). */
  readonly certPem: string;
  readonly token: { user: string; tokenName: string; secret: string };
  readonly faults: FaultController;
  /** The simulated cluster: `sim.cluster.setNodeOnline('pve2', false)`, guests, storages. */
  readonly cluster: ClusterState;
  readonly tasks: TaskRunner;
  /** The token's privileges: `sim.access.set({ '/vms': ['VM.Audit'] })` restricts what /access/permissions reports. */
  readonly access: TokenAccess;
  /** Node journals, firewall logs, the cluster log: `sim.logs.appendSyslog('pve1', { … })`, `setTimezone`. */
  readonly logs: SimLogs;
  /** True when requests are checked against the PVE schema. */
  readonly schemaChecked: boolean;
  /** The SSH endpoint (option `ssh`): where it listens, its login and its host key's fingerprint. */
  readonly ssh: SimulatorSshInfo | undefined;
  private readonly log: RequestLog;
  private server: ApiServer | undefined;
  private sshEndpoint: SimulatorSsh | undefined;

  private constructor(parts: {
    host: string;
    port: number;
    fingerprint: string;
    certPem: string;
    token: ApiToken;
    faults: FaultController;
    cluster: ClusterState;
    tasks: TaskRunner;
    access: TokenAccess;
    logs: SimLogs;
    log: RequestLog;
    server: ApiServer;
    schemaChecked: boolean;
    ssh?: SimulatorSsh;
  }) {
    this.host = parts.host;
    this.port = parts.port;
    this.url = `https://${parts.host.includes(':') ? `[${parts.host}]` : parts.host}:${parts.port}`;
    this.fingerprint = parts.fingerprint;
    this.certPem = parts.certPem;
    this.token = { ...parts.token };
    this.faults = parts.faults;
    this.cluster = parts.cluster;
    this.tasks = parts.tasks;
    this.access = parts.access;
    this.logs = parts.logs;
    this.log = parts.log;
    this.server = parts.server;
    this.schemaChecked = parts.schemaChecked;
    this.sshEndpoint = parts.ssh;
    this.ssh = parts.ssh?.info;
  }

  static async start(options: SimulatorOptions = {}): Promise<PveSimulator> {
    const o = checkOptions(options);
    const schema = loadSchema(options.schemaPath);
    const token: ApiToken = options.token
      ? parseTokenSpec(options.token)
      : { user: 'root@pam', tokenName: 'mcp', secret: randomUUID() };
    const cluster = seedCluster({ nodes: o.nodes, guests: o.guests, standalone: o.standalone, seed: o.seed });
    const tasks = new TaskRunner(cluster, o.taskSeconds);
    const access = new TokenAccess(options.acl);
    const logs = new SimLogs(cluster, o.seed);
    const log = new RequestLog();
    const certificate = await simulatorCertificate();
    const faults = new FaultController();
    const server = new ApiServer(certificate, {
      schema,
      router: buildRouter(),
      services: { cluster, tasks, access, logs },
      token,
      faults,
      log,
      authFailureDelayMs: o.authFailureDelayMs,
    });
    const address = await server.listen(o.port, o.host);
    let ssh: SimulatorSsh | undefined;
    try {
      if (options.ssh) ssh = await SimulatorSsh.start(cluster, o.host);
    } catch (error) {
      tasks.dispose();
      await server.close();
      throw error;
    }
    return new PveSimulator({
      ssh,
      host: o.host,
      port: address.port,
      fingerprint: certificate.fingerprint,
      certPem: certificate.cert,
      token,
      faults,
      cluster,
      tasks,
      access,
      logs,
      log,
      server,
      schemaChecked: schema !== null,
    });
  }

  /** `user@realm!name=secret`, the form `--token` takes. */
  get tokenSpec(): string {
    return formatTokenSpec(this.token);
  }

  /** The Authorization header value a PVE client sends. */
  get authorization(): string {
    return `PVEAPIToken=${this.token.user}!${this.token.tokenName}=${this.token.secret}`;
  }

  /** Recorded requests, oldest first (the last 10 000). */
  get requests(): RecordedRequest[] {
    return this.log.all();
  }

  /** Requests seen since start, including those the log no longer holds. */
  get totalRequests(): number {
    return this.log.total;
  }

  requestCount(filter?: RequestFilter): number {
    return this.log.count(filter);
  }

  /** Requests real PVE would refuse as such: unknown path/method (501), bad parameters (400), body on GET. */
  schemaViolations(): RecordedRequest[] {
    return this.log.violations();
  }

  clearRequests(): void {
    this.log.clear();
  }

  /** Closes the server and every connection (hanging ones too) and cancels task timers. */
  async stop(): Promise<void> {
    const [server, ssh] = [this.server, this.sshEndpoint];
    this.server = undefined;
    this.sshEndpoint = undefined;
    this.tasks.dispose();
    if (ssh) await ssh.close();
    if (server) await server.close();
  }
}

/**
 * The PROXMOX_* variables that point a server at this simulator (its certificate pinned): what a user would put
 * in the environment for a real cluster. Takes any object with the simulator's connection facts.
 */
export function simulatorTargetEnv(sim: {
  host: string;
  port: number;
  fingerprint: string;
  token: { user: string; tokenName: string; secret: string };
}): Record<string, string> {
  return {
    PROXMOX_HOST: sim.host,
    PROXMOX_PORT: String(sim.port),
    PROXMOX_USER: sim.token.user,
    PROXMOX_TOKEN_NAME: sim.token.tokenName,
    PROXMOX_TOKEN_VALUE: sim.token.secret,
    PROXMOX_FINGERPRINT: sim.fingerprint,
  };
}

/** A TargetConfig for this simulator: TLS verified by pinning its certificate's fingerprint. */
export function simulatorTargetConfig(
  sim: PveSimulator,
  overrides: Partial<TargetConfig> = {},
): TargetConfig {
  return {
    name: 'default',
    host: sim.host,
    port: sim.port,
    service: 'PVE',
    timeoutMs: 30_000,
    // the product default: tests see what users see (our own mutations drop the cache at once)
    inventoryCacheMs: 2_000,
    verifySsl: true,
    fingerprint: sim.fingerprint,
    user: sim.token.user,
    tokenName: sim.token.tokenName,
    tokenValue: sim.token.secret,
    readOnly: false,
    // a simulator holds nothing to lose: the scenario suite (test/scenarios) may run its stories against it
    allowE2e: true,
    ...overrides,
  };
}

/**
 * The `ssh` section for a simulator started with `ssh: true`: every node reached at the SSH endpoint, logged in with
 * its password, its host key pinned for every node (nothing trusted on first use).
 */
export function simulatorSshConfig(sim: PveSimulator): SshConfig {
  const ssh = sim.ssh;
  if (!ssh) throw new Error('simulatorSshConfig: the simulator was started without ssh: true');
  const nodes = sim.cluster.nodes().map((n) => n.name);
  return {
    user: ssh.user,
    port: ssh.port,
    password: ssh.password,
    hostOverrides: Object.fromEntries(nodes.map((n) => [n, ssh.host])),
    useSudo: false,
    strictHostKeyChecking: true,
    hostKeyFingerprints: Object.fromEntries(nodes.map((n) => [n, ssh.hostKeyFingerprint])),
  };
}

function loadSchema(option: string | null | undefined): PveApiSchema | null {
  if (typeof option === 'string') {
    if (!existsSync(option)) throw new Error(`PVE simulator: schema file ${option} does not exist`);
    return PveApiSchema.load(option);
  }
  const fromEnv = option === undefined ? process.env.PVE_API_SCHEMA : undefined;
  if (fromEnv && existsSync(fromEnv)) return PveApiSchema.load(fromEnv);
  if (!warnedNoSchema) {
    warnedNoSchema = true;
    process.stderr.write(`${NO_SCHEMA_WARNING}\n`);
  }
  return null;
}

function checkOptions(options: SimulatorOptions) {
  const intIn = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(
        `simulator option ${name}: got ${String(value)}; expected an integer ${min}-${max}`,
      );
    }
    return v;
  };
  const standalone = options.standalone ?? false;
  const nodes = intIn('nodes', options.nodes, 3, 1, 250);
  if (standalone && options.nodes !== undefined && nodes !== 1) {
    throw new RangeError('simulator option standalone: a standalone PVE host has exactly one node');
  }
  const taskSeconds = options.taskSeconds ?? 2;
  if (typeof taskSeconds !== 'number' || !(taskSeconds >= 0) || taskSeconds > 3600) {
    throw new RangeError(`simulator option taskSeconds: got ${String(options.taskSeconds)}; expected 0-3600`);
  }
  return {
    host: options.host ?? '127.0.0.1',
    port: intIn('port', options.port, 0, 0, 65535),
    nodes: standalone ? 1 : nodes,
    guests: intIn('guests', options.guests, 12, 0, 100_000),
    taskSeconds,
    standalone,
    seed: intIn('seed', options.seed, 1, 0, 2 ** 32 - 1),
    authFailureDelayMs: intIn('authFailureDelayMs', options.authFailureDelayMs, 0, 0, 60_000),
  };
}
