import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { InventoryService } from '../../src/proxmox/inventory.service.js';
import { QUICK, type BenchSizes } from '../../bench/options.js';
import { runBench } from '../../bench/run-bench.js';
import { floorLabels } from '../../bench/measure-inventory.js';
import { SAFETY } from '../../bench/measure-safety.js';
import { STDIO } from '../../bench/measure-stdio.js';
import { RSS, VERSUS } from '../../bench/measure-throughput.js';
import { SCHEMA_PATH, startHarness, testConfig, type Harness } from '../helpers/test-app.js';

// The benchmark's own code path with tiny sizes: every figure gets its line, the measured ones have values.
// No figure is compared with anything here (timings belong to `npm run bench`, not to tests).
describe('npm run bench, quick code path with tiny sizes', () => {
  const tiny: BenchSizes = {
    ...QUICK,
    inventory: { clusters: [{ nodes: 3, guests: 12 }], calls: 3, warmup: 1 },
    overhead: { cluster: { nodes: 3, guests: 12 }, calls: 5 },
    safety: { calls: 5 },
  };

  test('inventory, overhead and safety run; the report has one line per planned figure', async () => {
    const result = await runBench({
      sizes: tiny,
      only: ['inventory', 'overhead', 'safety'],
      schemaPath: SCHEMA_PATH,
      mode: 'smoke',
    });
    assert.deepEqual(result.failures, []);
    const lines = result.text.split('\n');
    const figures = result.report.all();
    // all seven sections are planned, whether or not they ran
    assert.deepEqual([...new Set(figures.map((f) => f.section))].sort(), [1, 2, 3, 4, 5, 6, 7]);
    assert.ok(
      lines.some((l) => /^figure +median +p99 +target +floor \(same run\) +verdict +detail$/.test(l)),
    );
    for (const figure of figures) {
      const line = lines.find((l) => l.startsWith(`${figure.label}  `));
      assert.ok(line, `a report line for "${figure.label}"`);
      if (figure.target) assert.ok(line.includes(figure.target.text), `"${figure.label}" shows its target`);
      if (figure.label === SAFETY.dryRun || figure.label === SAFETY.auditChain) {
        // issue 18: dry-run plans and the audit hash chain are measured in this build, p50 and p99, and say what
        // was timed (no timing is compared here)
        assert.equal(figure.note, undefined, `${figure.label}: ${figure.note}`);
        assert.ok(Number.isFinite(figure.median) && (figure.median ?? -1) >= 0, `${figure.label}: p50`);
        assert.ok(
          Number.isFinite(figure.p99) && (figure.p99 ?? -1) >= (figure.median ?? 0),
          `${figure.label}: p99`,
        );
        assert.ok(!line.includes('not measured'), line);
        assert.match(
          figure.detail ?? '',
          figure.label === SAFETY.dryRun ? /plan store write, SQLite file/ : /chain verified/,
        );
      } else if (figure.section === 1 || figure.section === 3 || figure.section === 7) {
        const measured = figure.median !== undefined && Number.isFinite(figure.median);
        assert.ok(
          measured || figure.note === 'n/a (tool not available)',
          `"${figure.label}" was measured (got ${figure.note ?? String(figure.median)})`,
        );
        if (measured) assert.ok(!/not run|failed/.test(line), line);
      } else {
        assert.equal(figure.note, 'not run', figure.label);
      }
    }
    // the inventory tools that exist answer from exactly one upstream request on a cold cache
    for (const tool of ['get_vms', 'get_containers', 'get_storage']) {
      const requests = figures.find((f) => f.label.startsWith(`${tool} @`) && f.label.endsWith('per call'));
      assert.equal(requests?.median, 1, `${tool}: one upstream request`);
    }
    // issue 18: every figure of its table has its line, with its target; the ratios carry their floor
    const byLabel = new Map(figures.map((f) => [f.label, f]));
    const cluster = tiny.inventory.clusters[0];
    for (const label of [
      VERSUS.rate,
      VERSUS.cpuMcp,
      VERSUS.cpuRest,
      floorLabels(cluster).floor,
      floorLabels(cluster).ratio,
      STDIO.floor,
      STDIO.ratio,
      RSS.floorBare,
      RSS.floorDeps,
      RSS.after(tiny.throughput.afterLoadMs),
      RSS.afterRatio,
      SAFETY.approval,
      SAFETY.dryRun,
      SAFETY.auditChain,
      SAFETY.auditPlain,
    ]) {
      assert.ok(byLabel.has(label), `a figure "${label}"`);
    }
    assert.equal(byLabel.get(VERSUS.rate)?.target?.text, '≥ 90 % of REST');
    assert.equal(byLabel.get(STDIO.ratio)?.target?.text, '≤ 2.5× the floor');
    assert.equal(byLabel.get(RSS.afterRatio)?.target?.text, '≤ 1.2×');
    for (const label of [SAFETY.approval, SAFETY.dryRun, SAFETY.auditChain]) {
      assert.equal(byLabel.get(label)?.target?.text, 'p50 ≤ 1 ms', label);
    }
    const ratio = byLabel.get(floorLabels(cluster).ratio);
    assert.ok(ratio?.floor && Number.isFinite(ratio.median), 'get_vms ÷ raw read: measured, floor printed');
    assert.ok(lines.find((l) => l.startsWith(`${ratio.label}  `))?.includes(ratio.floor));
    assert.ok((byLabel.get(floorLabels(cluster).floor)?.median ?? 0) > 0, 'the raw read was timed');
    assert.match(result.text, /^Closing notes:/m);
    assert.match(result.text, /every upstream request passed the PVE schema check\./);
  });
});

describe('the /cluster/resources cache (proxmox.inventory_cache_seconds)', () => {
  let h: Harness;
  let client: Awaited<ReturnType<Harness['mcp']>>;
  const resourceReads = () => h.sim.requestCount({ method: 'GET', path: '/cluster/resources' });
  const call = async (name: string) =>
    (await client.callTool({ name, arguments: {} })) as {
      isError?: boolean;
      structuredContent?: Record<string, unknown>;
      content: Array<{ text: string }>;
    };

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12 }, (sim) =>
      testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 60_000 })]),
    );
    client = await h.mcp();
  });
  after(async () => {
    await h?.close();
  });

  test('one upstream request serves the inventory tools until invalidate()', async () => {
    const resources = h.server.app.get(InventoryService);
    resources.invalidate();
    const before = resourceReads();
    assert.equal((await call('get_vms')).isError, undefined);
    assert.equal((await call('get_containers')).isError, undefined);
    assert.equal((await call('get_storage')).isError, undefined);
    assert.equal((await call('get_nodes')).isError, undefined, 'nodes come from the cached full answer');
    assert.equal(resourceReads() - before, 1);

    h.sim.cluster.setNodeOnline('pve2', false);
    try {
      assert.equal((await call('get_vms')).structuredContent?.partial, false, 'still the cached answer');
      resources.invalidate('default');
      assert.equal((await call('get_vms')).structuredContent?.partial, true, 'read again after invalidate()');
      assert.equal(resourceReads() - before, 2);
    } finally {
      h.sim.cluster.setNodeOnline('pve2', true);
      resources.invalidate();
    }
  });

  test('our own mutations drop it: a VM started through a tool is listed as running at once', async () => {
    const resources = h.server.app.get(InventoryService);
    resources.invalidate();
    const vmsNow = async () =>
      (await call('get_vms')).structuredContent?.vms as Array<{ vmid: number; node: string; status: string }>;
    const stopped = (await vmsNow()).find((v) => v.status === 'stopped');
    assert.ok(stopped, 'the simulator has a stopped VM');
    const before = resourceReads();
    assert.equal((await vmsNow()).find((v) => v.vmid === stopped.vmid)?.status, 'stopped');
    assert.equal(resourceReads() - before, 0, 'served from the cache');

    const started = await client.callTool({
      name: 'start_vm',
      arguments: { node: stopped.node, vmid: String(stopped.vmid), wait: true },
    });
    assert.equal(started.isError, undefined, JSON.stringify(started.content));
    assert.equal((await vmsNow()).find((v) => v.vmid === stopped.vmid)?.status, 'running');
    assert.ok(resourceReads() - before >= 1, 'read again after the mutation, not after the 60 s lifetime');
    await client.callTool({
      name: 'stop_vm',
      arguments: { node: stopped.node, vmid: String(stopped.vmid), wait: true },
    });
    assert.equal((await vmsNow()).find((v) => v.vmid === stopped.vmid)?.status, 'stopped');
  });

  test('failures are not cached, and cached rows are read-only', async () => {
    const resources = h.server.app.get(InventoryService);
    resources.invalidate();
    h.sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'status', status: 500, times: 1 });
    const failed = await call('get_vms');
    assert.equal(failed.isError, true);
    const before = resourceReads();
    assert.equal((await call('get_vms')).isError, undefined);
    assert.equal(resourceReads() - before, 1, 'the failure was not served again from the cache');
    const snap = await resources.clusterResources('vm');
    assert.ok(snap.items.length > 0 && snap.items.every((r) => Object.isFrozen(r)));
  });

  test('an answer requested before invalidate() is not kept after it', async () => {
    const resources = h.server.app.get(InventoryService);
    resources.invalidate();
    h.sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'latency', latencyMs: 300, times: 1 });
    const before = resourceReads();
    const slow = call('get_vms');
    await sleep(100); // the request is on its way when our own mutation invalidates the inventory
    resources.invalidate();
    assert.equal((await slow).isError, undefined);
    await call('get_vms');
    assert.equal(resourceReads() - before, 2, 'the second call read PVE again');
  });
});
