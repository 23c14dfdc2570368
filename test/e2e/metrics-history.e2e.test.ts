import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { SimClient, type Json } from '../helpers/sim-client.js';
import { harnessSuite, resultText, simRequests, toolCalls } from '../helpers/tools.js';

type Row = Record<string, number>;

/** The summary a user relies on, computed here from PVE's raw rows (not with the server's code). */
function expected(rows: Row[], read: (r: Row) => number | undefined) {
  const pts = rows
    .map((r) => ({ t: r.time, v: read(r) }))
    .filter((p): p is { t: number; v: number } => p.v !== undefined && Number.isFinite(p.v));
  const vs = pts.map((p) => p.v);
  const n = vs.length;
  const avg = vs.reduce((a, b) => a + b, 0) / n;
  const tm = pts.reduce((a, p) => a + p.t, 0) / n;
  const slope =
    pts.reduce((a, p) => a + (p.t - tm) * (p.v - avg), 0) / pts.reduce((a, p) => a + (p.t - tm) ** 2, 0);
  const moved = slope * (pts[n - 1].t - pts[0].t);
  const scale = Math.max(...vs.map(Math.abs));
  const trend = scale > 0 && Math.abs(moved) >= 0.05 * scale ? (moved > 0 ? 'rising' : 'falling') : 'flat';
  return {
    points: n,
    avg,
    min: Math.min(...vs),
    max: Math.max(...vs),
    last: vs[n - 1],
    change: vs[n - 1] - vs[0],
    slope_per_hour: slope * 3600,
    trend,
    values: rows.map((r) => read(r) ?? null),
  };
}

const TOLERANCE: Record<string, number> = { percent: 0.006, bytes: 0.6, 'bytes/s': 0.06, load: 0.006 };

function assertMetric(metric: Json, rows: Row[], read: (r: Row) => number | undefined, unit: string): void {
  const e = expected(rows, read);
  const tol = TOLERANCE[unit];
  assert.equal(metric.unit, unit, metric.name);
  assert.equal(metric.points, e.points, metric.name);
  for (const key of ['avg', 'min', 'max', 'last', 'change'] as const) {
    assert.ok(Math.abs(metric[key] - e[key]) <= tol, `${metric.name}.${key}: ${metric[key]} vs ${e[key]}`);
  }
  assert.ok(
    Math.abs(metric.slope_per_hour - e.slope_per_hour) <= tol / 100 + Math.abs(e.slope_per_hour) * 1e-9,
    `${metric.name}.slope_per_hour: ${metric.slope_per_hour} vs ${e.slope_per_hour}`,
  );
  assert.equal(metric.trend, e.trend, metric.name);
  if (metric.values) {
    assert.equal(metric.values.length, rows.length);
    metric.values.forEach((v: number | null, i: number) => {
      const want = e.values[i];
      if (want === null) assert.equal(v, null);
      else assert.ok(Math.abs((v as number) - want) <= tol, `${metric.name}[${i}]: ${v} vs ${want}`);
    });
  }
}

const byName = (r: Json) => new Map<string, Json>(r.metrics.map((m: Json) => [m.name, m]));
const avgOf = (rows: Row[], read: (r: Row) => number) => rows.reduce((a, r) => a + read(r), 0) / rows.length;

// The metrics history tools over MCP and REST against the schema-checked simulator: the summaries are checked
// against the simulator's own rrddata, read directly.
describe('get_node_metrics, get_guest_metrics, get_storage_metrics and get_top_guests', () => {
  let h: Harness;
  let mcp: Client;
  let pve: SimClient;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since } = simRequests(() => h.sim);
  const rrdReads = (seq: number) => since(seq).filter((q) => q.path.endsWith('/rrddata'));

  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 40 }, (sim) =>
        testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 0 })]),
      ),
    (started, client) => {
      h = started;
      mcp = client;
      pve = new SimClient(h.sim);
    },
  );

  /** PVE's rows for a path, read around `run` (again when a step boundary fell in between). */
  async function withRaw<T>(path: string, run: () => Promise<T>): Promise<{ rows: Row[]; result: T }> {
    for (let attempt = 0; ; attempt++) {
      const before = (await pve.get(path)).json.data as Row[];
      const result = await run();
      const after = (await pve.get(path)).json.data as Row[];
      if (before.at(-1)?.time === after.at(-1)?.time || attempt > 2) return { rows: after, result };
    }
  }

  test('tools/list: the four tools are read-only, and a point without data may be null', async () => {
    const { tools } = await mcp.listTools();
    for (const name of ['get_node_metrics', 'get_guest_metrics', 'get_storage_metrics', 'get_top_guests']) {
      const tool = tools.find((t) => t.name === name);
      assert.ok(tool, name);
      assert.equal(tool.annotations?.readOnlyHint, true, name);
    }
    const schema: Json = tools.find((t) => t.name === 'get_node_metrics')!.outputSchema;
    assert.deepEqual(schema.properties.metrics.items.properties.values.items.type, ['number', 'null']);
  });

  test('get_node_metrics: 70 points of 30 min, every metric and its summary as PVE recorded it, pressure included', async () => {
    const { rows, result } = await withRaw('/nodes/pve1/rrddata?timeframe=day&cf=AVERAGE', () =>
      call('get_node_metrics', { node: 'pve1', timeframe: 'day' }),
    );
    assert.equal(result.isError, undefined, resultText(result));
    const r = result.structuredContent;
    assert.equal(r.node, 'pve1');
    assert.equal(r.timeframe, 'day');
    assert.equal(r.cf, 'AVERAGE');
    assert.equal(r.step_seconds, 1800);
    assert.equal(r.timestamps.length, 70);
    assert.deepEqual(
      r.timestamps,
      rows.map((x) => x.time),
    );
    assert.equal(r.from, rows[0].time);
    assert.equal(r.to, rows[69].time);
    const m = byName(r);
    assertMetric(m.get('cpu'), rows, (x) => x.cpu * 100, 'percent');
    assertMetric(m.get('iowait'), rows, (x) => x.iowait * 100, 'percent');
    assertMetric(m.get('loadavg'), rows, (x) => x.loadavg, 'load');
    assertMetric(m.get('mem_used'), rows, (x) => x.memused, 'bytes');
    assertMetric(m.get('mem_total'), rows, (x) => x.memtotal, 'bytes');
    assertMetric(m.get('mem_percent'), rows, (x) => (x.memused / x.memtotal) * 100, 'percent');
    assertMetric(m.get('net_in'), rows, (x) => x.netin, 'bytes/s');
    assertMetric(m.get('net_out'), rows, (x) => x.netout, 'bytes/s');
    for (const [name, field] of [
      ['pressure_cpu_some', 'pressurecpusome'],
      ['pressure_io_some', 'pressureiosome'],
      ['pressure_io_full', 'pressureiofull'],
      ['pressure_memory_some', 'pressurememorysome'],
      ['pressure_memory_full', 'pressurememoryfull'],
    ]) {
      assertMetric(m.get(name), rows, (x) => x[field], 'percent');
    }
    assert.equal(m.get('pressure_cpu_full'), undefined, 'a node has no cpu full pressure');
    // the summary text an agent reads first
    assert.match(resultText(result), /^Node pve1, last day \(AVERAGE, 70 points of 1800 s\):\n- cpu: avg \d/);
    // the inventory check (one /cluster/resources), then one rrddata read
    const seq = lastSeq();
    await ok('get_node_metrics', { node: 'pve1', timeframe: 'day' });
    assert.deepEqual(
      since(seq).map((q) => `${q.method} ${q.path} ${JSON.stringify(q.query)}`),
      [
        'GET /cluster/resources {"type":"node"}',
        'GET /nodes/pve1/rrddata {"cf":"AVERAGE","timeframe":"day"}',
      ],
    );
  });

  test('get_node_metrics over REST is the same answer; cf=MAX and include_series=false are passed on', async () => {
    const { result } = await withRaw('/nodes/pve2/rrddata?timeframe=week', async () => ({
      mcp: await ok('get_node_metrics', { node: 'pve2', timeframe: 'week' }),
      rest: (await request(h.url).get('/nodes/pve2/metrics?timeframe=week').set(h.auth).expect(200)).body,
    }));
    assert.deepEqual(result.rest, result.mcp);
    assert.equal(result.mcp.step_seconds, 10800);

    const seq = lastSeq();
    const peaks = await ok('get_node_metrics', {
      node: 'pve2',
      timeframe: 'hour',
      cf: 'MAX',
      include_series: false,
    });
    assert.deepEqual(
      rrdReads(seq).map((q) => q.query),
      [{ timeframe: 'hour', cf: 'MAX' }],
    );
    assert.equal(peaks.cf, 'MAX');
    assert.equal(peaks.timestamps, undefined);
    for (const metric of peaks.metrics) assert.equal(metric.values, undefined, metric.name);
    const rest = await request(h.url)
      .get('/nodes/pve2/metrics?timeframe=hour&cf=MAX&include_series=false')
      .set(h.auth)
      .expect(200);
    assert.equal(rest.body.timestamps, undefined);
  });

  test('get_guest_metrics: the node comes from the inventory; VM and container series match PVE', async () => {
    const running = [...h.sim.cluster.guests()].filter((g) => g.status === 'running');
    const vm = running.find((g) => g.type === 'qemu')!;
    const ct = running.find((g) => g.type === 'lxc')!;
    for (const guest of [vm, ct]) {
      const path = `/nodes/${guest.node}/${guest.type}/${guest.vmid}/rrddata?timeframe=day`;
      const seq = lastSeq();
      const { rows, result } = await withRaw(path, () =>
        ok('get_guest_metrics', { vmid: guest.vmid, timeframe: 'day' }),
      );
      assert.deepEqual(
        rrdReads(seq)
          .filter((q) => q.query?.cf)
          .map((q) => q.path),
        [`/nodes/${guest.node}/${guest.type}/${guest.vmid}/rrddata`],
      );
      assert.equal(result.vmid, guest.vmid);
      assert.equal(result.type, guest.type);
      assert.equal(result.node, guest.node);
      assert.equal(result.status, 'running');
      const m = byName(result);
      assertMetric(m.get('cpu'), rows, (x) => x.cpu * 100, 'percent');
      assertMetric(m.get('mem_used'), rows, (x) => x.mem, 'bytes');
      assertMetric(m.get('mem_total'), rows, (x) => x.maxmem, 'bytes');
      assertMetric(m.get('mem_percent'), rows, (x) => (x.mem / x.maxmem) * 100, 'percent');
      assertMetric(m.get('disk_read'), rows, (x) => x.diskread, 'bytes/s');
      assertMetric(m.get('disk_write'), rows, (x) => x.diskwrite, 'bytes/s');
      assertMetric(m.get('net_in'), rows, (x) => x.netin, 'bytes/s');
      assertMetric(m.get('net_out'), rows, (x) => x.netout, 'bytes/s');
      assertMetric(m.get('pressure_cpu_full'), rows, (x) => x.pressurecpufull, 'percent');
      assertMetric(m.get('pressure_memory_some'), rows, (x) => x.pressurememorysome, 'percent');
      assert.ok(m.get('cpu').avg > 0);
    }
    const rest = await request(h.url)
      .get(`/guests/${vm.vmid}/metrics?timeframe=month`)
      .set(h.auth)
      .expect(200);
    assert.equal(rest.body.step_seconds, 43200);
    assert.equal(rest.body.vmid, vm.vmid);
  });

  test('a stopped guest: zeros, flat, like PVE', async () => {
    const stopped = [...h.sim.cluster.guests()].find((g) => g.status === 'stopped' && !g.template)!;
    const r = await ok('get_guest_metrics', { vmid: stopped.vmid });
    assert.equal(r.status, 'stopped');
    const cpu = byName(r).get('cpu');
    assert.equal(cpu.avg, 0);
    assert.equal(cpu.max, 0);
    assert.equal(cpu.trend, 'flat');
    assert.ok(cpu.values.every((v: number) => v === 0));
  });

  test('get_storage_metrics: used, total and used % per point; the trend of a filling storage', async () => {
    const { rows, result } = await withRaw('/nodes/pve1/storage/local-lvm/rrddata?timeframe=year', () =>
      ok('get_storage_metrics', { node: 'pve1', storage: 'local-lvm', timeframe: 'year' }),
    );
    assert.equal(result.storage, 'local-lvm');
    assert.equal(result.step_seconds, 604800);
    const m = byName(result);
    assertMetric(m.get('used'), rows, (x) => x.used, 'bytes');
    assertMetric(m.get('total'), rows, (x) => x.total, 'bytes');
    assertMetric(m.get('used_percent'), rows, (x) => (x.used / x.total) * 100, 'percent');
    assert.equal(m.get('used').trend, 'rising');
    assert.ok(m.get('used').slope_per_hour > 0);
    const text = resultText(
      await call('get_storage_metrics', { node: 'pve1', storage: 'local-lvm', timeframe: 'year' }),
    );
    assert.match(
      text,
      /^Storage local-lvm on pve1, last year \(AVERAGE, 70 points of 604800 s\):\n- used: avg .*, rising \(\+[\d.]+ [KMG]?B\/h\)/,
    );
    const rest = await request(h.url).get('/nodes/pve1/storage/local-lvm/metrics').set(h.auth).expect(200);
    assert.equal(rest.body.timeframe, 'hour');
    assert.equal(rest.body.metrics.length, 3);
  });

  test('get_top_guests by each measure: the ranking PVE history gives, in 1 + one rrddata per candidate requests', async () => {
    const measures = {
      cpu: (x: Row) => x.cpu * x.maxcpu,
      memory: (x: Row) => x.mem,
      disk_io: (x: Row) => x.diskread + x.diskwrite,
      net_io: (x: Row) => x.netin + x.netout,
    };
    const running = [...h.sim.cluster.guests()].filter((g) => g.status === 'running' && !g.template);
    // limit 15: limit + 15 candidates covers every running guest, so the ranking is the full one
    assert.ok(running.length <= 30, `${running.length} running guests`);
    const halfHour = () => Math.floor(Date.now() / 1000 / 1800);
    for (const [by, read] of Object.entries(measures)) {
      const step = halfHour();
      const seq = lastSeq();
      const r = await ok('get_top_guests', { by, timeframe: 'day', limit: 15 });
      const reads = since(seq);
      assert.equal(r.candidates, running.length);
      assert.equal(r.history_read, running.length);
      assert.equal(r.upstream_requests, reads.length, by);
      assert.equal(reads.filter((q) => q.path === '/cluster/resources').length, 1);
      const truth = await Promise.all(
        running.map(async (g) => {
          const rows = (await pve.get(`/nodes/${g.node}/${g.type}/${g.vmid}/rrddata?timeframe=day`)).json
            .data as Row[];
          return { vmid: g.vmid, value: avgOf(rows, read) };
        }),
      );
      // a day's rows move on every 30 min: a ranking made across that boundary is not comparable
      if (halfHour() !== step) continue;
      truth.sort((a, b) => b.value - a.value || a.vmid - b.vmid);
      assert.deepEqual(
        r.guests.map((g: Json) => g.vmid),
        truth.slice(0, 15).map((t) => t.vmid),
        by,
      );
      const tol = by === 'cpu' ? 0.001 : by === 'memory' ? 0.6 : 0.06;
      r.guests.forEach((g: Json, i: number) => {
        assert.equal(g.rank, i + 1);
        assert.ok(
          Math.abs(g.value - truth[i].value) <= tol,
          `${by} ${g.vmid}: ${g.value} vs ${truth[i].value}`,
        );
        assert.ok(g.peak >= g.value);
      });
      assert.equal(r.unit, { cpu: 'cores', memory: 'bytes', disk_io: 'bytes/s', net_io: 'bytes/s' }[by]);
    }
  });

  test('get_top_guests reads the history of the top candidates only; filters by node and type; REST agrees', async () => {
    const seq = lastSeq();
    const r = await ok('get_top_guests', { by: 'cpu' });
    const running = [...h.sim.cluster.guests()].filter((g) => g.status === 'running' && !g.template);
    assert.equal(r.guests.length, 10);
    assert.equal(r.history_read, Math.min(running.length, 20));
    assert.equal(rrdReads(seq).length, r.history_read);
    assert.equal(r.upstream_requests, 1 + r.history_read);
    assert.match(r.method, /^Ranked \d+ running guests by their current \/cluster\/resources value/);
    assert.match(
      resultText(await call('get_top_guests', { by: 'cpu', limit: 3 })),
      /^Top 3 guests by cpu, last hour average \(14 Proxmox requests\):\n1\. /,
    );

    const cts = await ok('get_top_guests', { by: 'memory', type: 'lxc', node: 'pve2', limit: 50 });
    assert.ok(cts.guests.length > 0);
    for (const g of cts.guests) {
      assert.equal(g.type, 'lxc');
      assert.equal(g.node, 'pve2');
      assert.ok(g.percent > 0 && g.percent <= 100);
    }
    const rest = await request(h.url)
      .get('/guests/top?by=memory&type=lxc&node=pve2&limit=50')
      .set(h.auth)
      .expect(200);
    assert.deepEqual(
      rest.body.guests.map((g: Json) => g.vmid),
      cts.guests.map((g: Json) => g.vmid),
    );
  });

  test('refusals name the field and send no rrddata request', async () => {
    const seq = lastSeq();
    await fails('get_guest_metrics', { vmid: 99999 }, 'NOT_FOUND', /No VM or container with ID 99999/);
    await fails('get_node_metrics', { node: 'pve9' }, 'NOT_FOUND', /Node 'pve9' is not part of the cluster/);
    await fails(
      'get_storage_metrics',
      { node: 'pve1', storage: 'nope' },
      'NOT_FOUND',
      /Storage 'nope' is not on node pve1[\s\S]*local-lvm/,
    );
    await fails('get_node_metrics', { node: 'pve1', timeframe: 'decade' }, 'VALIDATION', /timeframe/);
    await fails('get_guest_metrics', { vmid: 100, cf: 'MIN' }, 'VALIDATION', /cf/);
    await fails('get_top_guests', { by: 'disk' }, 'VALIDATION', /by must be one of/);
    await fails('get_top_guests', { by: 'cpu', limit: 51 }, 'VALIDATION', /limit must be 1-50/);
    await fails('get_top_guests', { by: 'cpu', node: 'pve9' }, 'NOT_FOUND', /pve9/);
    await fails('get_top_guests', { timeframe: 'hour' }, 'VALIDATION', /by/);
    await fails('get_node_metrics', { node: 'pve1', since: 'yesterday' }, 'VALIDATION');
    const bad = await request(h.url).get('/nodes/pve1/metrics?timeframe=minute').set(h.auth).expect(400);
    assert.equal(bad.body.code, 'VALIDATION');
    assert.match(
      bad.body.message,
      /timeframe must be one of the following values: hour, day, week, month, year/,
    );
    await request(h.url).get('/guests/99999/metrics').set(h.auth).expect(404);
    assert.deepEqual(rrdReads(seq), []);
  });

  test('an offline node: its metrics and its guests are refused; get_top_guests is partial', async () => {
    h.sim.cluster.setNodeOnline('pve3', false);
    try {
      const seq = lastSeq();
      const onPve3 = [...h.sim.cluster.guests()].find((g) => g.node === 'pve3')!;
      await fails('get_node_metrics', { node: 'pve3' }, 'CONFLICT', /Node pve3 is offline/);
      await fails('get_guest_metrics', { vmid: onPve3.vmid }, 'CONFLICT', /Node pve3 is offline/);
      await fails('get_storage_metrics', { node: 'pve3', storage: 'local' }, 'CONFLICT', /offline/);
      await fails('get_top_guests', { by: 'cpu', node: 'pve3' }, 'CONFLICT', /offline/);
      assert.deepEqual(rrdReads(seq), []);
      const top = await ok('get_top_guests', { by: 'net_io', limit: 50 });
      assert.equal(top.partial, true);
      assert.deepEqual(top.unavailable_nodes, ['pve3']);
      assert.ok(top.guests.every((g: Json) => g.node !== 'pve3'));
      assert.ok(rrdReads(seq).every((q) => !q.path.startsWith('/nodes/pve3/')));
    } finally {
      h.sim.cluster.setNodeOnline('pve3', true);
    }
  });
});
