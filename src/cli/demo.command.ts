import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiKeyConfig, AppConfig } from '../config/app-config.js';
import { loadConfig } from '../config/config.loader.js';
import { PveSimulator, simulatorSshConfig, simulatorTargetEnv } from '../simulator/index.js';
import { parsePort, UsageError } from './cli-errors.js';
import { removeDemoPointer, writeDemoState } from './demo-state.js';
import { startServer, waitForSignal, type RunningServer } from './serve.command.js';

/**
 * `demo`: a simulated Proxmox cluster (HTTPS API and the nodes' SSH for `pct exec`) plus the real server in front of
 * it, with an agent key and an operator key, so a new user can point an MCP client or curl at it within a minute.
 * Nothing here touches a real Proxmox.
 *
 * The demo owns only what connects it to its simulator and keeps it to itself: the target (host, port, certificate
 * fingerprint, token), the SSH section, the API keys, the job store (a temporary folder, removed when it exits,
 * also after a failed start) and the transport. Every other setting comes from the environment or the config file
 * as for `serve` (rate limits, command policy, tool exposure, MCP_HOST/MCP_PORT, logging …). Where the user set
 * nothing, the demo picks friendlier defaults: warnings-only logs, and an allowlist that lets the programs the
 * simulated containers answer run.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, 'api-key': { type: 'string' }, host: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const port = values.port === undefined ? undefined : parsePort(values.port, '--port');
  const apiKey = values['api-key'] ?? `demo-${randomBytes(18).toString('base64url')}`;
  if (!/^[\x21-\x7e]{16,512}$/.test(apiKey)) {
    throw new UsageError('--api-key: expected 16-512 printable characters without spaces');
  }
  const operatorKey = `demo-operator-${randomBytes(18).toString('base64url')}`;
  const schemaPath = demoSchemaPath(process.env.PVE_API_SCHEMA);
  if (schemaPath instanceof Error) {
    process.stderr.write(`${schemaPath.message}\n`);
    return 2;
  }
  if (schemaPath === null) process.stderr.write(`${NO_SCHEMA_NOTICE}\n`);
  // from here on Ctrl+C or SIGTERM ends the demo through the cleanup below, also while it is starting
  let stopping = false;
  const stopped = waitForSignal().then(() => {
    stopping = true;
  });
  const dir = mkdtempSync(join(tmpdir(), 'pmp-demo-'));
  let simulator: PveSimulator | undefined;
  let server: RunningServer | undefined;
  try {
    simulator = await PveSimulator.start({ port: 0, taskSeconds: 3, schemaPath, ssh: true });
    const config = demoConfig(simulator, dir, [
      { name: 'demo-agent', secret: apiKey, scope: 'admin' },
      { name: 'demo-operator', secret: operatorKey, scope: 'admin' },
    ]);
    // the hint an agent relays to its user names the command that works here, without any configuration
    config.commandPolicy.approveCommand = `${cliCommand()} approve --demo`;
    server = await startServer(config, { host: values.host, port });
    if (stopping) return 0; // stopped while starting: no banner for a server that is going away
    const warning = writeDemoState(dir, server.url, config);
    if (warning) process.stderr.write(`${warning}\n`);
    process.stdout.write(
      banner({ url: server.url, apiKey, operatorKey, simulator, schemaPath, config, cli: cliCommand() }),
    );
    await stopped;
    return 0;
  } finally {
    await server?.close();
    await simulator?.stop();
    removeDemoPointer(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Environment variables whose settings the demo owns: they describe another target, keys or job store. */
const OWNED_ENV = [
  'PROXMOX_HOST',
  'PROXMOX_PORT',
  'PROXMOX_TIMEOUT',
  'PROXMOX_VERIFY_SSL',
  'PROXMOX_SERVICE',
  'PROXMOX_CA_FILE',
  'PROXMOX_FINGERPRINT',
  'PROXMOX_INVENTORY_CACHE_SECONDS',
  'PROXMOX_USER',
  'PROXMOX_TOKEN_NAME',
  'PROXMOX_TOKEN_VALUE',
  'PROXMOX_API_TUNNEL_ENABLED',
  'MCP_API_KEY',
  'PROXMOX_API_KEY',
  'PROXMOX_ALLOW_NO_AUTH',
  'MCP_ALLOW_UNAUTHENTICATED_HTTP',
  'PROXMOX_JOBS_SQLITE_PATH',
  'PROXMOX_JOBS_DATABASE_URL',
  'MCP_TRANSPORT',
];

/** What the demo lets containers run when the user chose no command policy: the programs the simulator answers. */
const DEMO_ALLOW_PATTERNS = [
  'uname( -[asnrvmo])*',
  'hostname',
  'id',
  'uptime',
  'cat /etc/(os-release|hostname)',
  'echo( [^\\s]+)*',
];

/**
 * The server's configuration: the user's environment or config file, read exactly as `serve` reads it, with the
 * sections the demo owns replaced by its simulator's.
 */
function demoConfig(
  sim: PveSimulator,
  dir: string,
  apiKeys: ApiKeyConfig[],
  env: NodeJS.ProcessEnv = process.env,
): AppConfig {
  const sqlitePath = join(dir, 'jobs.sqlite3');
  const userEnv: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(env).filter(([name]) => !OWNED_ENV.includes(name)),
  );
  const policyChosen =
    env.COMMAND_POLICY_MODE !== undefined || env.COMMAND_POLICY_ALLOW_PATTERNS !== undefined;
  const loaded = loadConfig(
    {
      // environment mode only (a config file has its own logging and command_policy sections)
      LOG_LEVEL: 'warn',
      ...(policyChosen
        ? {}
        : {
            COMMAND_POLICY_MODE: 'allowlist',
            COMMAND_POLICY_ALLOW_PATTERNS: JSON.stringify(DEMO_ALLOW_PATTERNS),
          }),
      ...userEnv,
      ...simulatorTargetEnv(sim),
      MCP_TRANSPORT: 'STREAMABLE_HTTP',
      PROXMOX_JOBS_SQLITE_PATH: sqlitePath,
    },
    { rewriteFile: (doc) => demoDocument(doc, sim) },
  );
  const { databaseUrl: _notOurs, ...jobs } = loaded.jobs;
  return {
    ...loaded,
    mcp: { ...loaded.mcp, transport: 'STREAMABLE' },
    http: { ...loaded.http, apiKeys, allowNoAuth: false },
    jobs: { ...jobs, sqlitePath },
    ssh: simulatorSshConfig(sim),
  };
}

/** The user's config file with the demo's target in place of theirs, and the demo's defaults where they set none. */
function demoDocument(doc: Record<string, unknown>, sim: PveSimulator): Record<string, unknown> {
  // a section that is not an object is passed on as it is, for the loader to name the problem
  const edit = (key: string, change: (section: Record<string, unknown>) => void): unknown => {
    const value = doc[key];
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value)))
      return value;
    const section: Record<string, unknown> = { ...(value ?? {}) };
    change(section);
    return section;
  };
  const { targets: _targets, ssh: _ssh, api_tunnel: _tunnel, ...rest } = doc;
  const logging = edit('logging', (s) => {
    if (s.level === undefined) s.level = 'WARNING';
  });
  const policy = edit('command_policy', (s) => {
    if (s.mode === undefined && s.allow_patterns === undefined) {
      Object.assign(s, { mode: 'allowlist', allow_patterns: DEMO_ALLOW_PATTERNS });
    }
  });
  const security = edit('security', (s) => delete s.api_keys);
  const jobs = edit('jobs', (s) => {
    delete s.database_url;
    delete s.sqlite_path;
  });
  return {
    ...rest,
    proxmox: { host: sim.host, port: sim.port, fingerprint: sim.fingerprint, verify_ssl: true },
    auth: { user: sim.token.user, token_name: sim.token.tokenName, token_value: sim.token.secret },
    logging,
    command_policy: policy,
    security,
    jobs,
  };
}

/**
 * How this user runs the CLI, for the commands the banner prints: through npx/npm, a script path, or the installed
 * binary; in the Docker image (PROXMOX_MCP_MODE is set) inside the compose file's `demo` service.
 */
function cliCommand(env: NodeJS.ProcessEnv = process.env, script = process.argv[1]): string {
  if (env.npm_command === 'exec' || env.npm_command === 'run-script') return 'npx proxmox-mcp-plus';
  if (env.PROXMOX_MCP_MODE && script?.endsWith('container-main.js')) {
    return 'docker compose exec demo node dist/src/cli/container-main.js';
  }
  if (script && /\.[cm]?js$/.test(script)) {
    const rel = relative(process.cwd(), script);
    const shown = rel && !rel.startsWith(`..${sep}`) && rel !== '..' ? rel : script;
    return `node ${/^[\w./@:+-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`}`;
  }
  return 'proxmox-mcp-plus';
}

const NO_SCHEMA_NOTICE =
  'demo: PVE_API_SCHEMA is not set, so the simulated cluster does not check requests against the Proxmox VE API ' +
  'schema and may accept calls a real PVE refuses. To check them, set PVE_API_SCHEMA to an apidoc.json file ' +
  '(the api-viewer schema dump: a PVE host serves it as /pve-docs/api-viewer/apidoc.js, a JSON array after ' +
  "'const apiSchema = ').";

/** The schema the simulator checks requests against: a path, null (not configured) or a clear error. */
function demoSchemaPath(fromEnv: string | undefined): string | null | Error {
  if (!fromEnv?.trim()) return null;
  if (!existsSync(fromEnv)) {
    return new Error(
      `demo: PVE_API_SCHEMA=${fromEnv} does not exist. Point it at the Proxmox VE API schema (apidoc.json), ` +
        'or unset it to run the demo without request checks.',
    );
  }
  return fromEnv;
}

function banner(o: {
  url: string;
  apiKey: string;
  operatorKey: string;
  simulator: PveSimulator;
  schemaPath: string | null;
  config: AppConfig;
  cli: string;
}): string {
  const { url, apiKey, operatorKey, simulator, schemaPath, config, cli } = o;
  const line = '='.repeat(78);
  const ssh = simulator.ssh!;
  return `
${line}
  proxmox-mcp-plus DEMO — connected to a SIMULATED Proxmox VE cluster (no real hosts)
${line}
  MCP (Streamable HTTP):  ${url}/mcp
  REST API:               ${url}/
  Swagger UI:             ${url}/docs      (browser login: any user name, password = the API key)
  OpenAPI document:       ${url}/openapi.json
  API key:                ${apiKey}
                          (admin, named demo-agent: give it to your MCP client or scripts)
  Operator key:           ${operatorKey}
                          (admin, named demo-operator: approves the agent's requests over HTTP)
  Simulated PVE API:      ${simulator.url}/api2/json
  Simulated nodes' SSH:   ${ssh.user}@${ssh.host}:${ssh.port} (pct exec; host key ${ssh.hostKeyFingerprint} pinned)
  Request checks:         ${schemaPath ? `every request checked against ${schemaPath}` : 'off (PVE_API_SCHEMA not set)'}
  Job store:              ${config.jobs.sqlitePath} (deleted when the demo stops)

  Try:  curl -H "Authorization: Bearer ${apiKey}" ${url}/vms
  MCP client config: { "url": "${url}/mcp", "headers": { "Authorization": "Bearer ${apiKey}" } }

  Approvals: a destructive call (delete_vm, rollback_snapshot …) answers APPROVAL_REQUIRED with a request id.
  Approve it in another terminal, then repeat the call with "approval_token" set to the printed token:
    List:     ${cli} approve --demo --list
    Approve:  ${cli} approve --demo <request-id>
    or HTTP:  curl -X POST -H "Authorization: Bearer ${operatorKey}" ${url}/approvals/<request-id>
  Press Ctrl+C to stop.
${line}
`;
}
