import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { BIN, childEnv } from './child-server.js';
import { serverEnv } from './config.js';
import { stopSim, type BenchContext } from './context.js';
import { jsonRpc, MCP_PROTOCOL_VERSION, type JsonRpcAnswer } from './mcp-wire.js';
import { clusterName, type BenchSizes } from './options.js';
import { atMost, format, ratio, type Report } from './report.js';
import { SimHandle } from './sim-handle.js';
import { median, p99 } from './stats.js';

export const STDIO = {
  list: 'stdio cold start: spawn → tools/list answer',
  init: 'stdio cold start: spawn → initialize answer',
  floor: 'stdio floor: node answering tools/list from the manifest file',
  ratio: 'stdio cold start ÷ floor (spawn → tools/list answer)',
};
/** bench/stdio-floor.ts, compiled next to this file. */
const FLOOR = fileURLToPath(new URL('./stdio-floor.js', import.meta.url));

export function planStdio(report: Report, _sizes: BenchSizes['stdio']): void {
  report.plan({ section: 5, label: STDIO.list, unit: 'ms', target: atMost(250, 'p50 ≤ 250 ms') });
  report.plan({ section: 5, label: STDIO.init, unit: 'ms' });
  report.plan({ section: 5, label: STDIO.floor, unit: 'ms' });
  report.plan({ section: 5, label: STDIO.ratio, unit: '×', target: atMost(2.5, '≤ 2.5× the floor') });
}

/**
 * (5) `node bin/proxmox-mcp-plus.js stdio` started the way an MCP client starts it (configuration in the
 * environment, a SQLite job store file that exists after the first run), timed from spawn() to the answer to
 * tools/list, sent after the initialize answer and the initialized notification. Repeated `runs` times, one
 * after another; the first run (which creates the job store) is not counted.
 */
export async function measureStdio(ctx: BenchContext): Promise<void> {
  const sizes = ctx.sizes.stdio;
  ctx.progress(`(5) stdio cold start (${sizes.runs} runs)`);
  const dir = mkdtempSync(join(tmpdir(), 'pmp-bench-'));
  const sim = await SimHandle.start(sizes.cluster, ctx.schemaPath);
  try {
    const env = childEnv(
      serverEnv(sim, { MCP_TRANSPORT: 'STDIO', PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3') }),
    );
    await coldStart([BIN, 'stdio'], env); // creates the job store file
    await coldStart([FLOOR], env); // the floor's first start reads its files into the page cache too
    const toList: number[] = [];
    const toInit: number[] = [];
    const floor: number[] = [];
    let tools = 0;
    let floorTools = 0;
    // alternating, so a burst of other work on the machine hits both alike
    for (let i = 0; i < sizes.runs; i++) {
      const run = await coldStart([BIN, 'stdio'], env);
      toList.push(run.listMs);
      toInit.push(run.initMs);
      tools = run.tools;
      const bare = await coldStart([FLOOR], env);
      floor.push(bare.listMs);
      floorTools = bare.tools;
    }
    ctx.report.set(STDIO.list, {
      median: median(toList),
      p99: p99(toList),
      floor: `node from a file ${format(median(floor), 'ms')}`,
      detail: `${sizes.runs} runs, ${tools} tools listed, ${clusterName(sizes.cluster)}`,
    });
    ctx.report.set(STDIO.init, { median: median(toInit), p99: p99(toInit) });
    ctx.report.set(STDIO.floor, {
      median: median(floor),
      p99: p99(floor),
      detail: `${sizes.runs} runs alternating with the server's, ${floorTools} tools (bench/stdio-floor.ts)`,
    });
    ctx.report.set(STDIO.ratio, {
      median: ratio(median(toList), median(floor)),
      floor: format(median(floor), 'ms'),
      detail: `medians: ${format(median(toList), 'ms')} ÷ ${format(median(floor), 'ms')}`,
    });
  } finally {
    await stopSim(ctx, sim);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function coldStart(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ initMs: number; listMs: number; tools: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const answers = createInterface({ input: child.stdout });
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let initMs = NaN;
    const result = await new Promise<{ listMs: number; tools: number }>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`stdio server exited (${code}) before answering: ${stderr.trim()}`)),
      );
      answers.on('line', (line) => {
        let answer: JsonRpcAnswer;
        try {
          answer = JSON.parse(line) as JsonRpcAnswer;
        } catch {
          return reject(new Error(`stdout is not JSON-RPC: ${line.slice(0, 200)}`));
        }
        if (answer.id === 1) {
          initMs = performance.now() - t0;
          child.stdin.write(
            `${jsonRpc('notifications/initialized', {}, null)}\n${jsonRpc('tools/list', {}, 2)}\n`,
          );
        } else if (answer.id === 2) {
          const tools = answer.result?.tools?.length ?? 0;
          if (tools === 0) reject(new Error(`tools/list answered without tools: ${line.slice(0, 200)}`));
          resolve({ listMs: performance.now() - t0, tools });
        }
      });
      child.stdin.write(
        `${jsonRpc(
          'initialize',
          {
            protocolVersion: MCP_PROTOCOL_VERSION,
            capabilities: {},
            clientInfo: { name: 'pmp-bench', version: '1.0.0' },
          },
          1,
        )}\n`,
      );
    });
    clearTimeout(timeout);
    return { initMs, ...result };
  } finally {
    child.kill('SIGTERM'); // the stdio command closes the application and exits on SIGTERM
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
