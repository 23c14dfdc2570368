import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './stats.js';

const PROBE = fileURLToPath(new URL('./import-probe.js', import.meta.url));

/** What a fresh node process costs after importing some modules (or none: a bare node). */
export interface ProbeResult {
  /** Wall time of the imports inside the process. */
  importMs: number;
  /** Whole process: spawn → its answer. */
  startMs: number;
  rssMB: number;
}

/** The server's compiled modules, as import specifiers for the probe (from dist/bench). */
export const compiled = (path: string): string =>
  pathToFileURL(fileURLToPath(new URL(`../${path}`, import.meta.url))).href;

/**
 * The dependency packages the server imports at start-up or on demand (package.json dependencies, the big ones
 * one by one), and the simulator, for the notes' per-module shares. reflect-metadata goes first where Nest needs it.
 */
export const MODULE_GROUPS: Array<{ name: string; imports: string[] }> = [
  { name: '@nestjs/common + core', imports: ['reflect-metadata', '@nestjs/common', '@nestjs/core'] },
  { name: '@nestjs/platform-express', imports: ['reflect-metadata', '@nestjs/platform-express'] },
  { name: '@nestjs/swagger', imports: ['reflect-metadata', '@nestjs/swagger'] },
  { name: '@nestjs/typeorm', imports: ['reflect-metadata', '@nestjs/typeorm'] },
  { name: 'typeorm', imports: ['reflect-metadata', 'typeorm'] },
  { name: 'better-sqlite3', imports: ['better-sqlite3'] },
  { name: 'pg', imports: ['pg'] },
  { name: 'ssh2', imports: ['ssh2'] },
  { name: '@modelcontextprotocol/server', imports: ['@modelcontextprotocol/server'] },
  { name: '@modelcontextprotocol/node', imports: ['@modelcontextprotocol/node'] },
  { name: 'class-validator', imports: ['class-validator'] },
  { name: 'class-validator-jsonschema', imports: ['class-validator-jsonschema'] },
  { name: 'undici', imports: ['undici'] },
  { name: 'pino', imports: ['pino'] },
  { name: 'express', imports: ['express'] },
  { name: 'zod', imports: ['zod'] },
  { name: 'jose', imports: ['jose'] },
  { name: 'prom-client', imports: ['prom-client'] },
  { name: 'the simulator (dist/src/simulator)', imports: [compiled('src/simulator/index.js')] },
];

/**
 * Packages `serve` imports only when a feature needs them: pg with a PostgreSQL job store, ssh2 with the first SSH
 * command, jose with the first OAuth token. The "same modules" floor leaves them out, as `serve` does at start-up.
 */
export const ON_DEMAND_DEPENDENCIES = ['pg', 'ssh2', 'jose'];

/** Every dependency package above (not the simulator, which `serve` does not need). */
export const ALL_DEPENDENCIES = [
  ...new Set(MODULE_GROUPS.filter((g) => !g.name.startsWith('the simulator')).flatMap((g) => g.imports)),
];

/** The packages `serve` imports at start-up: the floor of its idle RSS. */
export const STARTUP_DEPENDENCIES = ALL_DEPENDENCIES.filter((name) => !ON_DEMAND_DEPENDENCIES.includes(name));

/**
 * Groups of start-up packages that could only leave start-up together (a package's own dependencies load with it),
 * for the notes' marginal shares: what the start-up set costs without each group.
 */
export const STARTUP_GROUPS: Array<{ name: string; imports: string[] }> = [
  { name: '@nestjs/swagger', imports: ['@nestjs/swagger'] },
  { name: 'TypeORM (@nestjs/typeorm, typeorm)', imports: ['@nestjs/typeorm', 'typeorm'] },
  { name: 'Express (@nestjs/platform-express, express)', imports: ['@nestjs/platform-express', 'express'] },
  {
    name: 'MCP SDK (@modelcontextprotocol/server and node, zod)',
    imports: ['@modelcontextprotocol/server', '@modelcontextprotocol/node', 'zod'],
  },
  {
    name: 'class-validator, class-validator-jsonschema',
    imports: ['class-validator', 'class-validator-jsonschema'],
  },
  { name: 'undici', imports: ['undici'] },
  { name: 'prom-client', imports: ['prom-client'] },
  { name: 'pino', imports: ['pino'] },
];

/**
 * How a floor process is started when it stands for `serve`: with the launcher's node flags
 * (bin/proxmox-mcp-plus.js) and, once idle, the memory-reducing collection the server's IdleMemoryTrim runs, so
 * the floor and the server are measured the same way.
 */
export const AS_SERVE = { nodeFlags: ['--max-semi-space-size=16'], trim: true };

export interface ProbeOptions {
  nodeFlags?: string[];
  /** Run a memory-reducing garbage collection once idle, before RSS is read. */
  trim?: boolean;
}

/** One fresh process importing `imports`. */
export function probeOnce(imports: string[], options: ProbeOptions = {}): Promise<ProbeResult> {
  const t0 = performance.now();
  const env = { ...process.env, ...(options.trim ? { PMP_BENCH_PROBE_TRIM: '1' } : {}) };
  return new Promise((resolve, reject) => {
    const args = [...(options.nodeFlags ?? []), PROBE, ...imports];
    execFile(process.execPath, args, { timeout: 60_000, env }, (error, stdout, stderr) => {
      const startMs = performance.now() - t0;
      if (error)
        return reject(new Error(`import probe (${imports.join(' ')}): ${stderr.trim() || error.message}`));
      try {
        const { importMs, rssMB } = JSON.parse(stdout.trim()) as { importMs: number; rssMB: number };
        resolve({ importMs, rssMB, startMs });
      } catch {
        reject(new Error(`import probe answered ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** The median of `runs` fresh processes (each field separately). */
export async function probe(
  imports: string[],
  runs: number,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const results: ProbeResult[] = [];
  for (let i = 0; i < Math.max(1, runs); i++) results.push(await probeOnce(imports, options));
  return {
    importMs: median(results.map((r) => r.importMs)),
    startMs: median(results.map((r) => r.startMs)),
    rssMB: median(results.map((r) => r.rssMB)),
  };
}
