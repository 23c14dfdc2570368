import { runSequential } from './load.js';
import { mcpToolCall, type InProcessServer } from './in-process.js';
import { clusterName, type BenchSizes } from './options.js';
import { atMost, type Report } from './report.js';
import type { SimHandle, SimSize } from './sim-handle.js';
import type { BenchContext } from './context.js';
import { median, p99 } from './stats.js';

const TOOL = 'get_top_guests';
/** The default call: the 10 guests using most CPU over the last hour, cluster-wide. */
const ARGS = { by: 'cpu', timeframe: 'hour' };
/** 1 /cluster/resources + the history of the top limit + max(limit, 10) = 20 candidates. */
const REQUESTS_TARGET = 21;

export const topGuestsLabels = (cluster: SimSize) => ({
  requests: `${TOOL} (by cpu, hour) @ ${clusterName(cluster)}: upstream requests per call`,
  latency: `${TOOL} (by cpu, hour) @ ${clusterName(cluster)}: server latency, uncached`,
});

/** The largest cluster of the inventory measurement (32 nodes/5,000 guests in the full and quick runs). */
export const topGuestsCluster = (sizes: BenchSizes['inventory']): SimSize | undefined =>
  sizes.clusters.at(-1);

export function planTopGuests(report: Report, sizes: BenchSizes['inventory']): void {
  const cluster = topGuestsCluster(sizes);
  if (!cluster) return;
  const l = topGuestsLabels(cluster);
  report.plan({
    section: 1,
    label: l.requests,
    unit: '',
    target: atMost(REQUESTS_TARGET, `≤ ${REQUESTS_TARGET} (1 inventory + 20 rrddata)`),
  });
  report.plan({ section: 1, label: l.latency, unit: 'ms' });
}

/**
 * (1, continued) get_top_guests over MCP on the largest cluster, one call at a time, the /cluster/resources cache
 * dropped before each call: what a cluster-wide ranking costs in upstream requests (counted by the simulator)
 * and in server latency (rrddata reads 8 at a time).
 */
export async function measureTopGuests(
  ctx: BenchContext,
  cluster: SimSize,
  sim: SimHandle,
  server: InProcessServer,
): Promise<void> {
  const { report } = ctx;
  const l = topGuestsLabels(cluster);
  if (!server.tools.has(TOOL)) {
    for (const label of Object.values(l)) report.set(label, { note: 'n/a (tool not available)' });
    return;
  }
  ctx.progress(`(1) ${TOOL} on ${clusterName(cluster)}`);
  const sizes = ctx.sizes.inventory;
  const call = mcpToolCall(TOOL, ARGS);
  const origin = server.server.url;
  await runSequential(origin, call, sizes.warmup, async () => server.invalidateCache?.());
  const requests: number[] = [];
  let before = 0;
  server.timer.reset();
  const run = await runSequential(
    origin,
    call,
    sizes.calls,
    async () => {
      server.invalidateCache?.();
      before = await sim.totalRequests();
    },
    async () => {
      requests.push((await sim.totalRequests()) - before);
    },
  );
  if (run.errors > 0) {
    report.set(l.latency, { note: `error: ${run.firstError ?? '?'}`.slice(0, 120) });
    report.set(l.requests, { note: 'error' });
    return;
  }
  const serverMs = server.timer.samples.map((s) => s.serverMs);
  const upstreamMs = server.timer.samples.map((s) => s.upstreamMs);
  report.set(l.requests, {
    median: median(requests),
    p99: p99(requests),
    detail: `max ${Math.max(...requests)}; per-guest rrddata for all ${cluster.guests.toLocaleString('en-US')} guests would be ${cluster.guests + 1}`,
  });
  report.set(l.latency, {
    median: median(serverMs),
    p99: p99(serverMs),
    detail:
      `${serverMs.length} calls; waiting for PVE p50 ${median(upstreamMs).toFixed(1)} ms; ` +
      `client-observed p50 ${median(run.latenciesMs).toFixed(1)} ms`,
  });
}
