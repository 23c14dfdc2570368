import { runSequential, type HttpCall } from './load.js';
import { mcpToolCall, restGet, startInProcessServer, type InProcessServer } from './in-process.js';
import { clusterName, type BenchSizes } from './options.js';
import { atMost, type Report } from './report.js';
import { SimHandle } from './sim-handle.js';
import { median, p99 } from './stats.js';
import { stopSim, type BenchContext } from './context.js';

export const OVERHEAD = {
  mcp: 'MCP tools/call get_vms: server − upstream',
  rest: 'REST GET /vms: server − upstream',
  upstream: 'get_vms upstream call (/cluster/resources), for reference',
  cachedMcp: 'MCP tools/call get_vms, cache warm: whole server latency',
  cachedRest: 'REST GET /vms, cache warm: whole server latency',
};

export function planOverhead(report: Report, sizes: BenchSizes['overhead']): void {
  const at = ` (${clusterName(sizes.cluster)})`;
  report.plan({ section: 3, label: OVERHEAD.mcp + at, unit: 'ms', target: atMost(1, 'p50 ≤ 1 ms') });
  report.plan({ section: 3, label: OVERHEAD.rest + at, unit: 'ms' });
  report.plan({ section: 3, label: OVERHEAD.upstream + at, unit: 'ms' });
  report.plan({ section: 3, label: OVERHEAD.cachedMcp + at, unit: 'ms' });
  report.plan({ section: 3, label: OVERHEAD.cachedRest + at, unit: 'ms' });
}

/**
 * (3) What the server adds to the PVE call. Calls go one at a time to a server in this process; for each, the
 * server-side time (Node 'request' event → response 'finish') minus the time spent inside the upstream request
 * (undici diagnostics: request created → last byte of PVE's answer). The difference is everything of ours:
 * HTTP parsing, auth, the MCP SDK, validation, JSON parsing of PVE's answer, mapping, serialisation. The cache is
 * dropped before each call so every call makes its upstream request; the "cache warm" lines show the whole
 * latency when no upstream request is made at all.
 */
export async function measureOverhead(ctx: BenchContext): Promise<void> {
  const sizes = ctx.sizes.overhead;
  const at = ` (${clusterName(sizes.cluster)})`;
  ctx.progress(`(3) MCP overhead on ${clusterName(sizes.cluster)}`);
  const sim = await SimHandle.start(sizes.cluster, ctx.schemaPath);
  let server: InProcessServer | undefined;
  try {
    server = await startInProcessServer(sim);
    const s = server;
    const mcp = await overheadOf(s, mcpToolCall('get_vms'), sizes.calls);
    const rest = await overheadOf(s, restGet('/vms'), sizes.calls);
    ctx.report.set(OVERHEAD.mcp + at, summary(mcp.overhead, mcp.note));
    ctx.report.set(OVERHEAD.rest + at, summary(rest.overhead, rest.note));
    ctx.report.set(OVERHEAD.upstream + at, summary(mcp.upstream));
    if (s.invalidateCache) {
      ctx.report.set(
        OVERHEAD.cachedMcp + at,
        summary(await warmLatency(s, mcpToolCall('get_vms'), sizes.calls)),
      );
      ctx.report.set(OVERHEAD.cachedRest + at, summary(await warmLatency(s, restGet('/vms'), sizes.calls)));
    } else {
      ctx.report.set(OVERHEAD.cachedMcp + at, { note: 'n/a (no cache in this build)' });
      ctx.report.set(OVERHEAD.cachedRest + at, { note: 'n/a (no cache in this build)' });
    }
  } finally {
    await server?.close();
    await stopSim(ctx, sim);
  }
}

async function overheadOf(
  server: InProcessServer,
  call: HttpCall,
  calls: number,
): Promise<{ overhead: number[]; upstream: number[]; note?: string }> {
  const origin = server.server.url;
  const drop = async () => server.invalidateCache?.();
  await runSequential(origin, call, Math.min(20, calls), drop); // warm-up: JIT, connections
  server.timer.reset();
  const run = await runSequential(origin, call, calls, drop);
  // only calls that made exactly one upstream request (a retry would blur the difference)
  const single = server.timer.samples.filter((s) => s.upstreamCalls === 1);
  const note = run.errors > 0 ? `error: ${run.firstError ?? '?'}`.slice(0, 120) : undefined;
  return {
    overhead: single.map((s) => s.serverMs - s.upstreamMs),
    upstream: single.map((s) => s.upstreamMs),
    note: note ?? (single.length === 0 ? 'no call made exactly one upstream request' : undefined),
  };
}

async function warmLatency(server: InProcessServer, call: HttpCall, calls: number): Promise<number[]> {
  const origin = server.server.url;
  await runSequential(origin, call, Math.min(20, calls));
  server.timer.reset();
  await runSequential(origin, call, calls);
  return server.timer.samples.filter((s) => s.upstreamCalls === 0).map((s) => s.serverMs);
}

function summary(samples: number[], note?: string) {
  if (note) return { note };
  return { median: median(samples), p99: p99(samples), detail: `${samples.length} calls` };
}
