import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import type { SimHandle } from './sim-handle.js';

/** The bearer key of every server the bench starts (loopback only). */
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';

/**
 * The environment a user would set to run the server against the simulator, in stdio or HTTP mode. The bench
 * builds every configuration through the real loader (loadConfig), so what it measures is what users run.
 * PROXMOX_MCP_CONFIG='' makes the loader ignore a proxmox-config/config.json in the working directory.
 */
export function serverEnv(sim: SimHandle, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PROXMOX_MCP_CONFIG: '',
    ...sim.targetEnv(),
    MCP_API_KEY: BENCH_API_KEY,
    MCP_HOST: '127.0.0.1',
    MCP_PORT: '0',
    PROXMOX_JOBS_SQLITE_PATH: ':memory:',
    // nothing is logged per request at INFO either; WARNING keeps the bench output readable
    LOG_LEVEL: 'WARNING',
    ...extra,
  };
}

/** The /cluster/resources cache lifetime of in-process bench servers: the product default (2 s). */
export const BENCH_INVENTORY_CACHE_MS = 2000;

/** An AppConfig for a server inside the bench process (what `serve` would build from the same variables). */
export function inProcessConfig(
  sim: SimHandle,
  options: { jobs?: Partial<AppConfig['jobs']>; inventoryCacheMs?: number } = {},
): AppConfig {
  const config = loadConfig({ HOME: process.env.HOME, ...serverEnv(sim, { MCP_TRANSPORT: 'STREAMABLE' }) });
  return {
    ...config,
    jobs: { ...config.jobs, ...options.jobs },
    targets: config.targets.map((t) => ({
      ...t,
      inventoryCacheMs: options.inventoryCacheMs ?? t.inventoryCacheMs,
    })),
  };
}

/**
 * A config.json for `proxmox-mcp-plus serve` in a child process, in the file form users write (checked with
 * the real loader before it is used, so a mistake here is reported as the loader would).
 */
export function writeServeConfigFile(
  sim: SimHandle,
  dir: string,
  port: number,
): { path: string; env: Record<string, string> } {
  const path = join(dir, 'bench-config.json');
  const file = {
    proxmox: {
      host: sim.info.host,
      port: sim.info.port,
      verify_ssl: true,
      fingerprint: sim.info.fingerprint,
    },
    auth: {
      user: sim.info.token.user,
      token_name: sim.info.token.tokenName,
      token_value: sim.info.token.secret,
    },
    logging: { level: 'WARNING' },
    mcp: { host: '127.0.0.1', port, transport: 'STREAMABLE' },
    security: { api_keys: [{ name: 'bench', key: BENCH_API_KEY, scope: 'admin' }] },
    jobs: { sqlite_path: join(dir, 'bench-jobs.sqlite3') },
  };
  writeFileSync(path, JSON.stringify(file, null, 2), { mode: 0o600 });
  const env = { PROXMOX_MCP_CONFIG: path };
  loadConfig({ HOME: process.env.HOME, ...env });
  return { path, env };
}
