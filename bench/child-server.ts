import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { writeServeConfigFile } from './config.js';
import type { SimHandle } from './sim-handle.js';

/** bin/proxmox-mcp-plus.js, from dist/bench/ (compiled) two levels up. */
export const BIN = fileURLToPath(new URL('../../bin/proxmox-mcp-plus.js', import.meta.url));

/**
 * The environment of a child server: the user's, minus every setting variable (they would override the
 * bench's config file), plus `extra`.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(PROXMOX_|MCP_|MCPO_|COMMAND_POLICY_|LOG_LEVEL$)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** `proxmox-mcp-plus serve` in its own process (so its RSS and CPU are its own), with a config file. */
export class ChildServer {
  private stderrTail = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
  }

  /** `nodeFlags` go to node itself, e.g. ['--max-old-space-size=256']. */
  static async start(
    sim: SimHandle,
    dir: string,
    nodeFlags: string[] = [],
    extraEnv: Record<string, string> = {},
  ): Promise<ChildServer> {
    const port = await freePort();
    const { env } = writeServeConfigFile(sim, dir, port);
    const child = spawn(process.execPath, [...nodeFlags, BIN, 'serve'], {
      env: childEnv({ ...env, ...extraEnv }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const server = new ChildServer(child, `http://127.0.0.1:${port}`);
    await server.waitLive();
    return server;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  rssMB(): number {
    return rssMB(this.pid);
  }

  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  /** Sends a signal (the heap probe answers SIGUSR2). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const outcome = await Promise.race([exited.then(() => 'exited'), sleep(10_000, 'timeout')]);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      await exited;
    }
  }

  private async waitLive(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`the server exited with ${this.child.exitCode}: ${this.stderrTail.trim()}`);
      }
      try {
        const res = await request(`${this.url}/livez`);
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    await this.stop();
    throw new Error(`the server did not answer /livez within 30 s: ${this.stderrTail.trim()}`);
  }
}

/** A loopback port free right now (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** VmRSS of a process in MB (10^6 bytes), from /proc/<pid>/status (Linux). */
export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return (kib * 1024) / 1e6;
}

/** Where a process's resident memory is, in MB, from /proc/<pid>/smaps (Linux). */
export interface MemoryMap {
  /** glibc's main heap (the `[heap]` mapping): native allocations of the main thread. */
  mallocHeapMB: number;
  /** Every other anonymous mapping: V8's heap, other malloc arenas, thread stacks. */
  otherAnonMB: number;
  /** Mapped files: node's own code and data, native modules. */
  filesMB: number;
}

export function memoryMap(pid: number): MemoryMap {
  const map: MemoryMap = { mallocHeapMB: 0, otherAnonMB: 0, filesMB: 0 };
  let into: keyof MemoryMap = 'otherAnonMB';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      const name = header[2];
      into = name === '[heap]' ? 'mallocHeapMB' : name.startsWith('/') ? 'filesMB' : 'otherAnonMB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) map[into] += (Number(rss[1]) * 1024) / 1e6;
  }
  return map;
}

/** User + system CPU time a process has used, in ms (/proc/<pid>/stat; Linux counts 100 ticks a second). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the ")" that ends the command name; utime and stime are fields 14 and 15 of the line
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
