import { lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { UsageError } from './cli-errors.js';

/**
 * How `approve --demo` finds a running demo: the demo writes its configuration (job store, approval lifetime …)
 * into its own temporary folder and a small pointer to it in a per-user place everyone can find:
 * `$XDG_RUNTIME_DIR/proxmox-mcp-plus-demo.json`, else `<tmpdir>/proxmox-mcp-plus-demo-<uid>.json`. The last demo
 * started wins; both files are removed when it stops.
 */
interface DemoPointer {
  pid: number;
  url: string;
  /** The demo's configuration file, inside its temporary folder. */
  config: string;
}

export function demoPointerPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR?.trim()) return join(env.XDG_RUNTIME_DIR, 'proxmox-mcp-plus-demo.json');
  const { uid, username } = userInfo();
  return join(tmpdir(), `proxmox-mcp-plus-demo-${uid >= 0 ? uid : username}.json`);
}

/** Writes the demo's configuration into `dir` and points the well-known file at it; a warning when it cannot. */
export function writeDemoState(dir: string, url: string, config: AppConfig): string | undefined {
  const configPath = join(dir, 'demo-config.json');
  writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
  const pointer = demoPointerPath();
  const temp = `${pointer}.${process.pid}.tmp`;
  try {
    const body: DemoPointer = { pid: process.pid, url, config: configPath };
    writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
    renameSync(temp, pointer);
    return undefined;
  } catch (error) {
    rmSync(temp, { force: true });
    return `demo: cannot write ${pointer} (${(error as NodeJS.ErrnoException).code ?? 'error'}); 'approve --demo' will not find this demo`;
  }
}

/** Removes the pointer if it still names this demo (a newer demo may have taken it over). */
export function removeDemoPointer(dir: string): void {
  const pointer = demoPointerPath();
  const current = readPointer(pointer);
  if (current && current.pid === process.pid && current.config === join(dir, 'demo-config.json')) {
    rmSync(pointer, { force: true });
  }
}

/** The configuration of the running demo, for `approve --demo`; a UsageError that says what to do otherwise. */
export function runningDemoConfig(): AppConfig {
  const pointer = demoPointerPath();
  const found = readPointer(pointer);
  if (!found) {
    throw new UsageError(
      `approve --demo: no demo is running for this user (${pointer} is missing). Start one with ` +
        "'proxmox-mcp-plus demo', or run approve without --demo and with the server's configuration.",
    );
  }
  if (!isAlive(found.pid)) {
    throw new UsageError(
      `approve --demo: the demo that wrote ${pointer} (pid ${found.pid}) is no longer running; start it again.`,
    );
  }
  if (!ownedRegularFile(found.config)) {
    throw new UsageError(
      `approve --demo: ${found.config} (named by ${pointer}) is not this demo's configuration`,
    );
  }
  return JSON.parse(readFileSync(found.config, 'utf8')) as AppConfig;
}

function readPointer(path: string): DemoPointer | undefined {
  if (!ownedRegularFile(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<DemoPointer>;
    const ok =
      Number.isInteger(value.pid) && typeof value.url === 'string' && typeof value.config === 'string';
    return ok ? (value as DemoPointer) : undefined;
  } catch {
    return undefined;
  }
}

/** A regular file (not a link) that belongs to this user: another user's file in a shared /tmp is ignored. */
function ownedRegularFile(path: string): boolean {
  try {
    const stat = lstatSync(path);
    const uid = process.getuid?.();
    return stat.isFile() && (uid === undefined || stat.uid === uid);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
