import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PveSimulator } from '../../src/simulator/index.js';
import { API_KEY } from './test-app.js';

/**
 * The real server as a separate OS process, started the way a user starts it (`proxmox-mcp-plus serve` with a
 * config file and an API key in the environment), for what an in-process server cannot show: kill -9 in the
 * middle of work, a restart on the same job store, two replicas side by side.
 *
 * The child runs the compiled build (bin/ → dist/src/cli/main.js), so build before running these tests.
 */

// This file runs from dist/test/helpers/; bin/ is not compiled, it lives at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/proxmox-mcp-plus.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** Output kept per process (the tail), enough for a failure message without holding a chatty log forever. */
const MAX_OUTPUT_CHARS = 1_000_000;

export interface ServerProcessOptions {
  sim: PveSimulator;
  /** jobs.sqlite_path; a file in a fresh temporary directory when neither this nor databaseUrl is given. */
  sqlitePath?: string;
  /** jobs.database_url (postgres://…). */
  databaseUrl?: string;
  /** Extra environment variables for the child (on top of PATH, HOME, PROXMOX_MCP_CONFIG, PROXMOX_API_KEY). */
  env?: Record<string, string>;
  /** Merged into the generated config.json (objects merge key by key, anything else replaces). */
  extraConfig?: object;
}

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** Headers that authenticate with the process's API key. */
  auth: Record<string, string>;
  /** Everything the process wrote to stdout and stderr so far (the server logs JSON lines on stderr). */
  output(): string;
  /** Sends `signal` (default SIGKILL) and resolves with the exit code: null when a signal ended the process. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGTERM, then waits; rejects when the process does not exit within 10 s or exits with a code other than 0. */
  stop(): Promise<void>;
}

/** Children still running, killed if the test process exits without stopping them (a failed `before`). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-server-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(serverConfig(opts, dir), null, 2), { mode: 0o600 });
    // A port picked here can be taken by someone else before the child binds it: try again with another one.
    for (let attempt = 1; ; attempt++) {
      const started = await launch(opts, dir, configPath, await freePort());
      if (started.kind === 'running') {
        // The directory holds the config (with the simulator's token) and the default SQLite file.
        void started.exited.then(() => rmSync(dir, { recursive: true, force: true }));
        return started.server;
      }
      if (!started.portTaken || attempt === 3) throw new Error(started.reason);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function serverConfig(opts: ServerProcessOptions, dir: string): object {
  const { sim } = opts;
  const base = {
    proxmox: { host: sim.host, port: sim.port, verify_ssl: true, fingerprint: sim.fingerprint },
    auth: { user: sim.token.user, token_name: sim.token.tokenName, token_value: sim.token.secret },
    logging: { level: 'info' },
    mcp: { host: '127.0.0.1', transport: 'STREAMABLE_HTTP' },
    jobs: {
      sqlite_path: opts.sqlitePath ?? (opts.databaseUrl ? null : join(dir, 'jobs.sqlite3')),
      database_url: opts.databaseUrl ?? null,
    },
  };
  return opts.extraConfig ? merge(base, opts.extraConfig) : base;
}

function merge(base: Record<string, unknown>, extra: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A port nothing listens on right now (the OS picks it), for a child server to bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

type Launch =
  | { kind: 'running'; server: ServerProcess; exited: Promise<number | null> }
  | { kind: 'failed'; reason: string; portTaken: boolean };

async function launch(
  opts: ServerProcessOptions,
  dir: string,
  configPath: string,
  port: number,
): Promise<Launch> {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      PROXMOX_MCP_CONFIG: configPath,
      PROXMOX_API_KEY: API_KEY,
      // the coverage gate (scripts/run-tests.mjs) counts the code this process runs too
      ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(-MAX_OUTPUT_CHARS / 2);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // 'close' (not 'exit'): the pipes are drained, so output() holds the last words of a crashed process.
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const url = `http://127.0.0.1:${port}`;

  const ready = await waitForLivez(url, () => exitCode !== undefined);
  if (!ready) {
    if (exitCode === undefined) child.kill('SIGKILL');
    const code = await exited;
    return {
      kind: 'failed',
      portTaken: /EADDRINUSE/.test(output),
      reason:
        (ready === false
          ? `server process exited (code ${code}) before answering GET ${url}/livez`
          : `server process did not answer GET ${url}/livez within ${START_TIMEOUT_MS / 1000} s`) +
        `; its output:\n${output}`,
    };
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (exitCode === undefined) child.kill(signal);
    return exited;
  };
  return {
    kind: 'running',
    exited,
    server: {
      url,
      pid: child.pid!,
      auth: { authorization: `Bearer ${API_KEY}` },
      output: () => output,
      kill,
      async stop() {
        if (exitCode !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const code = await exited;
        clearTimeout(timer);
        if (code !== 0) {
          throw new Error(
            `server process ${child.pid} did not stop cleanly on SIGTERM (exit code ${code}); its output:\n${output}`,
          );
        }
      },
    },
  };
}

/** true once /livez answers 200; false when the process exited first; undefined on timeout. */
async function waitForLivez(url: string, hasExited: () => boolean): Promise<boolean | undefined> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) return false;
    try {
      const res = await fetch(`${url}/livez`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return hasExited() ? false : undefined;
}
