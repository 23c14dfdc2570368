import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, type AppConfig } from '../../src/config/app-config.js';
import { loadConfig } from '../../src/config/config.loader.js';

export const TOKEN = 'f3a9c0de-1111-2222-3333-444455556666';

/** A config file under construction: tests add or break keys freely. */
export interface ConfigFile {
  proxmox: Record<string, unknown>;
  auth: Record<string, unknown>;
  [section: string]: unknown;
}

/** The smallest valid single-target file. */
/** The target that minimalFile() and envCredentials both describe, as loadConfig builds it. */
export const expectedDefaultTarget = () => ({
  name: 'default',
  host: 'pve.example.com',
  port: 8006,
  service: 'PVE',
  timeoutMs: 30_000,
  inventoryCacheMs: 2_000,
  verifySsl: true,
  user: 'mcp@pve',
  tokenName: 'mcp',
  tokenValue: TOKEN,
  readOnly: false,
});

export const minimalFile = (): ConfigFile => ({
  proxmox: { host: 'pve.example.com' },
  auth: { user: 'mcp@pve', token_name: 'mcp', token_value: TOKEN },
});

/** Env-only credentials (no config file). */
export const envCredentials = {
  PROXMOX_HOST: 'pve.example.com',
  PROXMOX_USER: 'mcp@pve',
  PROXMOX_TOKEN_NAME: 'mcp',
  PROXMOX_TOKEN_VALUE: TOKEN,
};

/** A fresh directory used as cwd and HOME, so nothing from the real machine leaks into a test. */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'pmp-config-'));

  /** Writes a file under the sandbox (objects as JSON) and returns its absolute path. */
  write(relative: string, content: string | object): string {
    const path = join(this.dir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  }

  /** Loads with cwd and HOME = the sandbox; `file` is written to config.json and named by PROXMOX_MCP_CONFIG. */
  load(file: string | object | undefined, env: Record<string, string> = {}): AppConfig {
    const base: Record<string, string> = { HOME: this.dir };
    if (file !== undefined) base.PROXMOX_MCP_CONFIG = this.write('config.json', file);
    return loadConfig({ ...base, ...env }, { cwd: this.dir });
  }

  /** The ConfigError problems of a load that must fail. */
  problems(file: string | object | undefined, env: Record<string, string> = {}): string[] {
    return problemsOf(() => this.load(file, env));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error.problems.length > 0);
    assert.ok(error.message.startsWith('Invalid configuration:'));
    return error.problems;
  }
  assert.fail('expected loadConfig to throw a ConfigError');
}

/** Asserts that exactly one problem starts with `prefix` and returns it. */
export function findProblem(problems: string[], prefix: string): string {
  const hits = problems.filter((p) => p.startsWith(prefix));
  assert.equal(
    hits.length,
    1,
    `expected one problem starting with ${JSON.stringify(prefix)} in:\n${problems.join('\n')}`,
  );
  return hits[0];
}
