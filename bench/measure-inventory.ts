import { runSequential } from './load.js';
import { startInProcessServer, mcpToolCall } from './in-process.js';
import { clusterName, INVENTORY_TOOLS, type BenchSizes } from './options.js';
import { atMost, format, ratio, type Report } from './report.js';
import { rawResourcesFloor } from './raw-floor.js';
import { SimHandle, type SimSize } from './sim-handle.js';
import { stopSim, type BenchContext } from './context.js';
import { median, p99 } from './stats.js';
import { measureTopGuests, planTopGuests, topGuestsCluster } from './measure-top-guests.js';

const LARGE = 5000;
/** Tools that list storage content, which PVE only serves per node and storage. */
const CONTENT_TOOLS = new Set(['list_isos', 'list_backups']);

export const inventoryLabels = (cluster: SimSize, tool: string) => ({
  requests: `${tool} @ ${clusterName(cluster)}: upstream requests per call`,
  latency: `${tool} @ ${clusterName(cluster)}: server latency, uncached`,
  ours: `${tool} @ ${clusterName(cluster)}: server latency minus upstream wait, uncached`,
  cached: `${tool} @ ${clusterName(cluster)}: server latency, cache warm`,
});

/** The tool judged against the raw-read floor (the "get_vms on 32 nodes / 5,000 guests"). */
const FLOORED_TOOL = 'get_vms';
export const floorLabels = (cluster: SimSize) => ({
  floor: `raw GET /cluster/resources + JSON.parse @ ${clusterName(cluster)} (floor)`,
  ratio: `${FLOORED_TOOL} @ ${clusterName(cluster)}: server latency ÷ floor, uncached`,
});

export function planInventory(report: Report, sizes: BenchSizes['inventory']): void {
  for (const cluster of sizes.clusters) {
    for (const tool of INVENTORY_TOOLS) {
      const l = inventoryLabels(cluster, tool);
      report.plan({ section: 1, label: l.requests, unit: '', target: atMost(1, '= 1 request') });
      report.plan({
        section: 1,
        label: l.latency,
        unit: 'ms',
        target: cluster.guests >= LARGE ? atMost(100, 'p50 ≤ 100 ms') : undefined,
      });
      report.plan({ section: 1, label: l.ours, unit: 'ms' });
      report.plan({ section: 1, label: l.cached, unit: 'ms' });
      if (tool === FLOORED_TOOL) {
        const f = floorLabels(cluster);
        report.plan({ section: 1, label: f.floor, unit: 'ms' });
        report.plan({
          section: 1,
          label: f.ratio,
          unit: '×',
          target: cluster.guests >= LARGE ? atMost(1.1, '≤ 1.10× the floor') : undefined,
        });
      }
    }
  }
  planTopGuests(report, sizes);
}

/**
 * (1) Each inventory tool called over MCP (tools/call, one call at a time) against a simulator of each size.
 * "Uncached": the /cluster/resources cache is dropped before every call, so each call pays for the upstream
 * request (the worst case, and what every call cost before the cache). "Cache warm": repeated calls within the
 * cache's lifetime. Upstream requests are counted by the simulator.
 */
export async function measureInventory(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  const sizes = ctx.sizes.inventory;
  for (const cluster of sizes.clusters) {
    ctx.progress(`(1) inventory tools on ${clusterName(cluster)}`);
    const sim = await SimHandle.start(cluster, ctx.schemaPath);
    const server = await startInProcessServer(sim).catch(async (e: unknown) => {
      await sim.stop();
      throw e;
    });
    try {
      if (cluster === topGuestsCluster(sizes)) await measureTopGuests(ctx, cluster, sim, server);
      for (const tool of INVENTORY_TOOLS) {
        const l = inventoryLabels(cluster, tool);
        if (!server.tools.has(tool)) {
          const all = tool === FLOORED_TOOL ? { ...l, ...floorLabels(cluster) } : l;
          for (const label of Object.values(all)) report.set(label, { note: 'n/a (tool not available)' });
          continue;
        }
        const call = mcpToolCall(tool);
        const origin = server.server.url;
        const invalidate = async () => server.invalidateCache?.();
        await runSequential(origin, call, sizes.warmup, invalidate);

        // uncached: requests counted per call by the simulator
        const requests: number[] = [];
        let before = 0;
        server.timer.reset();
        const uncached = await runSequential(
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
        const serverMs = server.timer.samples.map((s) => s.serverMs);
        if (uncached.errors > 0) {
          report.set(l.latency, { note: `error: ${uncached.firstError ?? '?'}`.slice(0, 120) });
          for (const label of [l.requests, l.ours, l.cached]) report.set(label, { note: 'error' });
          continue;
        }
        report.set(l.requests, {
          median: median(requests),
          p99: p99(requests),
          detail:
            `max ${Math.max(...requests)}` +
            (CONTENT_TOOLS.has(tool)
              ? '; PVE has no cluster-wide content list: the floor is 1 + one read per storage holding it'
              : ''),
        });
        const upstreamMs = server.timer.samples.map((s) => s.upstreamMs);
        const oursMs = server.timer.samples.map((s) => s.serverMs - s.upstreamMs);
        report.set(l.latency, {
          median: median(serverMs),
          p99: p99(serverMs),
          detail:
            `${serverMs.length} calls; waiting for PVE p50 ${median(upstreamMs).toFixed(1)} ms; ` +
            `client-observed p50 ${median(uncached.latenciesMs).toFixed(1)} ms`,
        });
        report.set(l.ours, { median: median(oursMs), p99: p99(oursMs), detail: `${oursMs.length} calls` });
        if (tool === FLOORED_TOOL) {
          // right after the tool's own calls, on the same simulator, the same number of calls
          const f = floorLabels(cluster);
          const floor = await rawResourcesFloor(sim, sizes.calls, sizes.warmup);
          report.set(f.floor, {
            median: median(floor),
            p99: p99(floor),
            detail: `${floor.length} calls; one keep-alive TLS connection, certificate pinned, as the gateway's`,
          });
          report.set(l.latency, { floor: `raw GET ${format(median(floor), 'ms')}` });
          report.set(f.ratio, {
            median: ratio(median(serverMs), median(floor)),
            floor: format(median(floor), 'ms'),
            detail: `medians: ${format(median(serverMs), 'ms')} ÷ ${format(median(floor), 'ms')}`,
            why:
              `the server waited ${format(median(upstreamMs), 'ms')} for PVE's answer (the floor's whole read, ` +
              `its JSON.parse included, took ${format(median(floor), 'ms')}) and spent ${format(median(oursMs), 'ms')} ` +
              'of its own: parsing that answer (as the floor does), mapping the rows, rendering the text and ' +
              'serialising the MCP result. What would move it: mapping while parsing (no intermediate objects), or ' +
              'the text only when a client asks for it.',
          });
        }

        if (!server.invalidateCache) {
          report.set(l.cached, { note: 'n/a (no cache in this build)' });
          continue;
        }
        server.timer.reset();
        const warm = await runSequential(origin, call, sizes.calls);
        const warmMs = server.timer.samples.map((s) => s.serverMs);
        const upstream = server.timer.samples.reduce((n, s) => n + s.upstreamCalls, 0);
        report.set(l.cached, {
          median: median(warmMs),
          p99: p99(warmMs),
          detail: `${warm.calls} calls, ${upstream} upstream requests in ${(warm.durationMs / 1000).toFixed(1)} s`,
        });
      }
    } finally {
      await server.close();
      await stopSim(ctx, sim);
    }
  }
}
