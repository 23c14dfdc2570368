import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildServer, memoryMap, processCpuMs, type MemoryMap } from './child-server.js';
import { stopSim, type BenchContext } from './context.js';
import { listTools, mcpToolCall, restGet } from './in-process.js';
import { runLoad, type HttpCall, type LoadResult } from './load.js';
import { clusterName, type BenchSizes } from './options.js';
import { heapStatLines, topBySelfSize, type HeapProbe } from './heap-summary.js';
import { AS_SERVE, ON_DEMAND_DEPENDENCIES, probe, STARTUP_DEPENDENCIES } from './probe-client.js';
import { atLeast, atMost, format, ratio, type Report } from './report.js';
import { SimHandle } from './sim-handle.js';
import { median, p99 } from './stats.js';

const KINDS = [
  { key: 'mcp', name: 'MCP tools/call get_vms', call: () => mcpToolCall('get_vms') },
  { key: 'rest', name: 'REST GET /vms', call: () => restGet('/vms') },
] as const;

const clients = (c: number) => `${c} client${c === 1 ? '' : 's'}`;
export const throughputLabels = (kind: string, c: number) => ({
  rate: `${kind}, ${clients(c)}: throughput`,
  latency: `${kind}, ${clients(c)}: latency`,
});
/** A smaller V8 heap limit than Node's default (a share of the machine's memory): V8 then collects earlier. */
export const TUNED_FLAG = '--max-old-space-size=256';
export const RSS = {
  idle: 'RSS idle, after start-up',
  floorBare: 'RSS floor: a bare node process, idle',
  floorDeps: 'RSS floor: node with the packages serve imports at start-up, idle',
  own: "RSS idle minus that floor: the server's own code and state",
  loadMcp: 'RSS under 16-client load, MCP (p99 column: peak)',
  loadRest: 'RSS under 16-client load, REST (p99 column: peak)',
  after: (ms: number) => `RSS idle again, ${ms / 1000} s after the load`,
  afterRatio: 'RSS idle again after the load ÷ RSS idle before it',
  tunedIdle: `RSS idle, node ${TUNED_FLAG}`,
  tunedLoad: `RSS under 16-client load, MCP, node ${TUNED_FLAG} (p99: peak)`,
};
/** (2) The issue-18 figures: MCP against REST on the same server in the same run, at 16 clients. */
export const VERSUS = {
  rate: 'MCP ÷ REST throughput, 16 clients (get_vms vs GET /vms)',
  cpuMcp: 'MCP tools/call get_vms, 16 clients: server CPU per call',
  cpuRest: 'REST GET /vms, 16 clients: server CPU per call',
};
/** Preloaded into the serve child: answers SIGUSR2 with heap statistics (and a snapshot) for the notes. */
const HEAP_PROBE = pathToFileURL(fileURLToPath(new URL('./heap-probe.js', import.meta.url))).href;

export function planThroughput(report: Report, sizes: BenchSizes['throughput']): void {
  for (const kind of KINDS) {
    for (const c of sizes.concurrency) {
      const l = throughputLabels(kind.name, c);
      report.plan({
        section: 2,
        label: l.rate,
        unit: 'calls/s',
        target: c === 16 ? atLeast(1000, '≥ 1,000 calls/s') : undefined,
      });
      report.plan({ section: 2, label: l.latency, unit: 'ms' });
    }
  }
  report.plan({ section: 2, label: VERSUS.rate, unit: '%', target: atLeast(90, '≥ 90 % of REST') });
  report.plan({ section: 2, label: VERSUS.cpuMcp, unit: 'ms' });
  report.plan({ section: 2, label: VERSUS.cpuRest, unit: 'ms' });
  report.plan({ section: 6, label: RSS.idle, unit: 'MB', target: atMost(120, '≤ 120 MB') });
  report.plan({ section: 6, label: RSS.floorBare, unit: 'MB' });
  report.plan({ section: 6, label: RSS.floorDeps, unit: 'MB' });
  report.plan({ section: 6, label: RSS.own, unit: 'MB' });
  report.plan({ section: 6, label: RSS.loadMcp, unit: 'MB', target: atMost(200, 'peak ≤ 200 MB', 'p99') });
  report.plan({ section: 6, label: RSS.loadRest, unit: 'MB', target: atMost(200, 'peak ≤ 200 MB', 'p99') });
  report.plan({ section: 6, label: RSS.after(sizes.afterLoadMs), unit: 'MB' });
  report.plan({ section: 6, label: RSS.afterRatio, unit: '×', target: atMost(1.2, '≤ 1.2×') });
  report.plan({ section: 6, label: RSS.tunedIdle, unit: 'MB' });
  report.plan({ section: 6, label: RSS.tunedLoad, unit: 'MB' });
}

/**
 * (2) Closed-loop load on `proxmox-mcp-plus serve` running in its own process (default settings, config file,
 * SQLite job store, poller on), with 1, 4 and 16 clients over keep-alive connections, for MCP (stateless
 * Streamable HTTP, raw JSON-RPC POSTs) and REST. (6) Its RSS from /proc: idle after start-up, sampled every
 * 100 ms during the 16-client runs, and idle again afterwards. The simulator runs in a third process; the load
 * generator is this process. All three share the machine's cores, so throughput is bounded by the machine.
 */
export async function measureThroughput(ctx: BenchContext): Promise<void> {
  const sizes = ctx.sizes.throughput;
  ctx.progress(`(2)(6) throughput and RSS on ${clusterName(sizes.cluster)} (server in a child process)`);
  const dir = mkdtempSync(join(tmpdir(), 'pmp-bench-'));
  const sim = await SimHandle.start(sizes.cluster, ctx.schemaPath);
  let server: ChildServer | undefined;
  try {
    // the floors first, in fresh processes, while nothing else of the bench runs
    const bare = await probe([], sizes.floorRuns);
    const deps = await probe(STARTUP_DEPENDENCIES, sizes.floorRuns, AS_SERVE);
    const runsText = `median of ${sizes.floorRuns} fresh process${sizes.floorRuns === 1 ? '' : 'es'}`;
    ctx.report.set(RSS.floorBare, {
      median: bare.rssMB,
      detail: `${runsText}; \`node\` with no module loaded`,
    });
    ctx.report.set(RSS.floorDeps, {
      median: deps.rssMB,
      detail:
        `${runsText}; the ${STARTUP_DEPENDENCIES.length} packages serve imports at start-up (not ${ON_DEMAND_DEPENDENCIES.join(', ')}: on demand), ` +
        `imported in ${deps.importMs.toFixed(0)} ms, none used; the server's node flags and idle memory-reducing GC`,
    });

    server = await ChildServer.start(sim, dir, [`--import=${HEAP_PROBE}`], {
      PMP_BENCH_HEAP_DIR: dir,
      PMP_BENCH_HEAP_SNAPSHOT: '1',
    });
    const s = server;
    await sleep(sizes.settleMs);
    const idle = await sampleRss(s, 5, 200);
    ctx.report.set(RSS.idle, {
      median: median(idle),
      p99: Math.max(...idle),
      floor: `bare node ${format(bare.rssMB, 'MB')}; + deps ${format(deps.rssMB, 'MB')}`,
      why:
        `the packages serve imports at start-up take ${format(deps.rssMB, 'MB')} before any of our code runs ` +
        `(the floor, measured as the server is), and our own code and state ${format(median(idle) - deps.rssMB, 'MB')}. ` +
        'What would move it: fewer packages at start-up; the notes give what each group adds to the rest.',
      detail: `${idle.length} samples, ${sizes.settleMs / 1000} s after /livez answered`,
    });
    const mapBefore = memoryMap(s.pid);
    ctx.report.set(RSS.own, {
      median: median(idle) - deps.rssMB,
      detail: `medians: ${format(median(idle), 'MB')} − ${format(deps.rssMB, 'MB')}: our modules, Nest's graph of every tool, TypeORM's metadata, caches`,
    });
    const tools = await listTools(s.url);
    if (!tools.has('get_vms')) throw new Error('get_vms is not in tools/list');

    for (const kind of KINDS) {
      for (const c of sizes.concurrency) {
        const l = throughputLabels(kind.name, c);
        ctx.progress(`  ${kind.name}, ${clients(c)}`);
        await runLoad(s.url, kind.call(), { concurrency: c, durationMs: sizes.warmupMs });
        const rates: number[] = [];
        const latencies: number[] = [];
        const rss: number[] = [];
        let errors = 0;
        let firstError: string | undefined;
        let serverCpu = 0;
        let loadCpu = 0;
        let simCpu = 0;
        let wallMs = 0;
        let upstream = 0;
        let calls = 0;
        for (let run = 0; run < sizes.runs; run++) {
          const m = await measuredRun(s, sim, kind.call(), c, sizes.durationMs, c === 16 ? rss : undefined);
          rates.push(m.result.latenciesMs.length / (m.result.durationMs / 1000));
          latencies.push(...m.result.latenciesMs);
          errors += m.result.errors;
          firstError ??= m.result.firstError;
          serverCpu += m.serverCpuMs;
          loadCpu += m.loadCpuMs;
          simCpu += m.simCpuMs;
          wallMs += m.result.durationMs;
          upstream += m.upstream;
          calls += m.result.calls;
        }
        const pct = (ms: number) => `${Math.round((100 * ms) / wallMs)}%`;
        ctx.report.set(l.rate, {
          median: median(rates),
          detail:
            `${sizes.runs} × ${sizes.durationMs / 1000} s, runs ${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}` +
            `, ${errors} errors${firstError ? ` (${firstError.slice(0, 80)})` : ''}` +
            `, ${(upstream / Math.max(1, calls)).toFixed(3)} upstream req/call`,
        });
        ctx.report.set(l.latency, {
          median: median(latencies),
          p99: p99(latencies),
          detail:
            `server CPU ${(serverCpu / Math.max(1, calls)).toFixed(2)} ms/call; share of one core: ` +
            `server ${pct(serverCpu)}, load generator ${pct(loadCpu)}, simulator ${pct(simCpu)}`,
        });
        if (c === 16) {
          const cpu = serverCpu / Math.max(1, calls);
          ctx.report.set(kind.key === 'mcp' ? VERSUS.cpuMcp : VERSUS.cpuRest, {
            median: cpu,
            detail: `${calls} calls; /proc/<pid>/stat user + system of the serve process`,
          });
        }
        if (c === 16 && rss.length > 0) {
          ctx.report.set(kind.key === 'mcp' ? RSS.loadMcp : RSS.loadRest, {
            median: median(rss),
            p99: Math.max(...rss),
            detail: `${rss.length} samples`,
          });
        }
      }
    }
    const mcp16 = ctx.report.value(throughputLabels(KINDS[0].name, 16).rate);
    const rest16 = ctx.report.value(throughputLabels(KINDS[1].name, 16).rate);
    ctx.report.set(VERSUS.rate, {
      median: 100 * ratio(mcp16, rest16),
      floor: `REST ${format(rest16, 'calls/s')}`,
      detail: `MCP ${format(mcp16, 'calls/s')}; the same serve process, one run after the other`,
    });
    const cpuRest = ctx.report.value(VERSUS.cpuRest);
    ctx.report.set(VERSUS.cpuMcp, {
      floor: `REST ${format(cpuRest, 'ms')} (${format(ratio(ctx.report.value(VERSUS.cpuMcp), cpuRest), '×')})`,
    });

    ctx.progress(`  idle for ${sizes.afterLoadMs / 1000} s after the load`);
    await sleep(sizes.afterLoadMs);
    const after = await sampleRss(s, 5, 200);
    const mapAfter = memoryMap(s.pid);
    const before = ctx.report.value(RSS.idle);
    ctx.report.set(RSS.after(sizes.afterLoadMs), {
      median: median(after),
      p99: Math.max(...after),
      detail:
        `${after.length} samples` +
        (sizes.afterLoadMs < 30_000
          ? `; quick run: waited ${sizes.afterLoadMs / 1000} s, not the target's 30 s`
          : ''),
    });
    ctx.report.set(RSS.afterRatio, {
      median: ratio(median(after), before),
      floor: `idle before ${format(before, 'MB')}`,
      detail: `after ${format(median(after), 'MB')}, waited ${sizes.afterLoadMs / 1000} s`,
    });
    const probed = await heapNotes(ctx, s, dir);
    explainMemory(ctx, probed, mapBefore, mapAfter);
    await s.stop();

    // the same server with a smaller heap limit: what a deployment can choose (NODE_OPTIONS), not the default
    ctx.progress(`  MCP tools/call get_vms, 16 clients, node ${TUNED_FLAG}`);
    server = await ChildServer.start(sim, dir, [TUNED_FLAG]);
    const tuned = server;
    await sleep(sizes.settleMs);
    const tunedIdle = await sampleRss(tuned, 5, 200);
    ctx.report.set(RSS.tunedIdle, { median: median(tunedIdle), p99: Math.max(...tunedIdle) });
    const call = mcpToolCall('get_vms');
    await runLoad(tuned.url, call, { concurrency: 16, durationMs: sizes.warmupMs });
    const rss: number[] = [];
    const m = await measuredRun(tuned, sim, call, 16, sizes.durationMs, rss);
    ctx.report.set(RSS.tunedLoad, {
      median: median(rss),
      p99: Math.max(...rss),
      detail:
        `${rss.length} samples; ${Math.round(m.result.latenciesMs.length / (m.result.durationMs / 1000))} calls/s, ` +
        `server CPU ${(m.serverCpuMs / Math.max(1, m.result.calls)).toFixed(2)} ms/call (1 run)`,
    });
  } finally {
    await server?.stop();
    await stopSim(ctx, sim);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measuredRun(
  server: ChildServer,
  sim: SimHandle,
  call: HttpCall,
  concurrency: number,
  durationMs: number,
  rssSamples?: number[],
): Promise<{
  result: LoadResult;
  serverCpuMs: number;
  loadCpuMs: number;
  simCpuMs: number;
  upstream: number;
}> {
  const upstreamBefore = await sim.totalRequests();
  const serverCpu = server.cpuMs();
  const simCpu = processCpuMs(sim.pid);
  const loadCpu = process.cpuUsage();
  const timer = rssSamples ? setInterval(() => rssSamples.push(server.rssMB()), 100) : undefined;
  let result: LoadResult;
  try {
    result = await runLoad(server.url, call, { concurrency, durationMs });
  } finally {
    if (timer) clearInterval(timer);
  }
  const load = process.cpuUsage(loadCpu);
  return {
    result,
    serverCpuMs: server.cpuMs() - serverCpu,
    simCpuMs: processCpuMs(sim.pid) - simCpu,
    loadCpuMs: (load.user + load.system) / 1000,
    upstream: (await sim.totalRequests()) - upstreamBefore,
  };
}

/** The measured reasons behind the peak and after-load figures, when they miss (the closing notes print them). */
function explainMemory(
  ctx: BenchContext,
  probed: HeapProbe | undefined,
  before: MemoryMap,
  after: MemoryMap,
): void {
  const mb = (bytes: number) => format(bytes / 1e6, 'MB');
  const peak = probed?.peak;
  if (peak) {
    const why =
      `at the highest RSS sampled (${mb(peak.rss)}) V8's heap was ${mb(peak.heapTotal)}: young generation ` +
      `${mb(peak.newSpace)} (two 16 MB semi-spaces), old generation ${mb(peak.oldSpace)}; the other ` +
      `${mb(peak.rss - peak.heapTotal)} is node's code and native memory (idle: ${format(before.filesMB, 'MB')} of mapped files). ` +
      'What would move it: smaller semi-spaces or heap growth (more collections: CPU per call), or fewer packages.';
    ctx.report.set(RSS.loadMcp, { why });
    ctx.report.set(RSS.loadRest, { why });
  }
  const heap = probed
    ? `V8's heap is back to ${mb(probed.memory.heapTotal)} (new space ${mb(probed.spaces.find((sp) => sp.space_name === 'new_space')?.space_size ?? 0)}); `
    : '';
  const part = (name: string, key: keyof MemoryMap) =>
    `${name} ${format(before[key], 'MB')} → ${format(after[key], 'MB')}`;
  ctx.report.set(RSS.afterRatio, {
    why:
      `${heap}what stayed is native (smaps, idle before → after): ${part("glibc's main heap [heap]", 'mallocHeapMB')}, ` +
      `${part('other anonymous memory', 'otherAnonMB')}, ${part('mapped files', 'filesMB')}. glibc returns free memory ` +
      'inside its heap only on malloc_trim(), which node does not call. What would move it: another allocator ' +
      '(jemalloc through LD_PRELOAD), or fewer main-thread allocations per request.',
  });
}

/** What holds the server's memory after the load (heap-probe.ts in the serve child), as report notes. */
async function heapNotes(
  ctx: BenchContext,
  server: ChildServer,
  dir: string,
): Promise<HeapProbe | undefined> {
  const notes = ctx.report.notes;
  notes.push(
    'What holds the serve process memory after the load (heap probe, after the idle RSS was sampled):',
  );
  try {
    ctx.progress('  heap statistics and snapshot of the serve process');
    server.signal('SIGUSR2');
    const file = join(dir, 'heap.json');
    const deadline = Date.now() + 120_000;
    while (!existsSync(file) && Date.now() < deadline) await sleep(200);
    if (!existsSync(file)) throw new Error('no heap.json within 120 s');
    const probed = JSON.parse(readFileSync(file, 'utf8')) as HeapProbe;
    notes.push(...heapStatLines(probed).map((l) => `  ${l}`));
    if (probed.snapshot) {
      notes.push(...topBySelfSize(probed.snapshot).map((l) => `  ${l}`));
      rmSync(probed.snapshot, { force: true });
    }
    return probed;
  } catch (error) {
    notes.push(`  not available: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

async function sampleRss(server: ChildServer, count: number, everyMs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(server.rssMB());
    await sleep(everyMs);
  }
  return samples;
}
