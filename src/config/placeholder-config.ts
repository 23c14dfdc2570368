import type { AppConfig } from './app-config.js';
import { loadConfig } from './config.loader.js';

/**
 * A configuration whose one target is a placeholder that is never contacted (`pve.invalid`), an in-memory job
 * store and no poller: for what is built from the tool table alone (docs/tools.md, the stdio tool manifest and
 * their tests), which does not depend on any cluster. `env` adds or overrides variables (e.g. a tool denylist).
 */
export function placeholderConfig(env: Record<string, string> = {}): AppConfig {
  const config = loadConfig(
    {
      PROXMOX_MCP_CONFIG: '',
      PROXMOX_HOST: 'pve.invalid',
      PROXMOX_USER: 'root@pam',
      PROXMOX_TOKEN_NAME: 'placeholder',
      PROXMOX_TOKEN_VALUE: '00000000-0000-0000-0000-000000000000',
      PROXMOX_JOBS_SQLITE_PATH: ':memory:',
      LOG_LEVEL: 'ERROR',
      ...env,
    },
    { cwd: process.cwd() },
  );
  return { ...config, jobs: { ...config.jobs, pollIntervalMs: 0 } };
}
