import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildServer, processCpuMs } from './child-server.js';
import { stopSim, type BenchContext } from './context.js';
import { listTools, mcpToolCall, restGet } from './in-process.js';
import { runLoad, type HttpCall, type LoadResult } from './load.js';
import { clusterName, type BenchSizes } from './options.js';
import { atLeast, atMost, type Report } from './report.js';
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
  loadMcp: 'RSS under 16-client load, MCP (p99 column: peak)',
  loadRest: 'RSS under 16-client load, REST (p99 column: peak)',
  after: 'RSS idle again, after the load',
  tunedIdle: `RSS idle, node ${TUNED_FLAG}`,
  tunedLoad: `RSS under 16-client load, MCP, node ${TUNED_FLAG} (p99: peak)`,
};

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
  report.plan({ section: 6, label: RSS.idle, unit: 'MB', target: atMost(120, '≤ 120 MB') });
  report.plan({ section: 6, label: RSS.loadMcp, unit: 'MB', target: atMost(250, 'peak ≤ 250 MB', 'p99') });
  report.plan({ section: 6, label: RSS.loadRest, unit: 'MB', target: atMost(250, 'peak ≤ 250 MB', 'p99') });
  report.plan({ section: 6, label: RSS.after, unit: 'MB' });
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
    server = await ChildServer.start(sim, dir);
    const s = server;
    await sleep(sizes.settleMs);
    const idle = await sampleRss(s, 5, 200);
    ctx.report.set(RSS.idle, {
      median: median(idle),
      p99: Math.max(...idle),
      detail: `${idle.length} samples`,
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
        if (c === 16 && rss.length > 0) {
          ctx.report.set(kind.key === 'mcp' ? RSS.loadMcp : RSS.loadRest, {
            median: median(rss),
            p99: Math.max(...rss),
            detail: `${rss.length} samples`,
          });
        }
      }
    }
    await sleep(sizes.settleMs);
    const after = await sampleRss(s, 5, 200);
    ctx.report.set(RSS.after, {
      median: median(after),
      p99: Math.max(...after),
      detail: `${after.length} samples`,
    });
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

async function sampleRss(server: ChildServer, count: number, everyMs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(server.rssMB());
    await sleep(everyMs);
  }
  return samples;
}
