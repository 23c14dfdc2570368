import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { simulatorTargetConfig, type PveSimulator } from '../../src/simulator/index.js';
import { API_KEY, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';
import { pvePathTemplate } from '../../src/metrics/metric-labels.js';

const READER_KEY = 'reader-key-0123456789abcdef';
const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const as = (key: string) => ({ authorization: `Bearer ${key}` });
// gated so the approval flow (request, refused self-approval, operator approval) can run on a read tool
const GATED = 'get_node_status';

function config(sim: PveSimulator, overrides: Partial<AppConfig> = {}): AppConfig {
  const base = testConfig([simulatorTargetConfig(sim, { name: 'lab' })]);
  return {
    ...base,
    http: {
      ...base.http,
      apiKeys: [
        ...base.http.apiKeys, // `test`, admin
        { name: 'reader', secret: READER_KEY, scope: 'read' },
        { name: 'operator', secret: OPERATOR_KEY, scope: 'admin' },
      ],
    },
    commandPolicy: { ...base.commandPolicy, highRiskMode: 'enforce', highRiskOperations: [GATED] },
    ...overrides,
  };
}

// ---- a small parser of the Prometheus text format (0.0.4): enough to look series up by name and labels ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (m[2] ?? '').matchAll(LABEL_PAIR)) {
      labels[key] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('GET /metrics: Prometheus series for HTTP, tool calls, PVE calls, jobs and approvals', () => {
  let h: Harness;
  let scraped: ReturnType<typeof parseExposition>;
  let vm: { node: string; vmid: number; status: string };
  const missingJob = randomUUID();
  const readerClients: Client[] = [];

  const series = (name: string, labels: Record<string, string> = {}) =>
    scraped.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  const value = (name: string, labels: Record<string, string>) => {
    const found = series(name, labels);
    assert.equal(found.length, 1, `one ${name} series with ${JSON.stringify(labels)}; got ${found.length}`);
    return found[0].value;
  };

  async function mcpAs(key: string): Promise<Client> {
    const client = new Client({ name: 'metrics-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: as(key) } }),
    );
    readerClients.push(client);
    return client;
  }

  before(async () => {
    h = await startHarness({ nodes: 2, guests: 6 }, (sim) => config(sim));
    const vms = (await request(h.url).get('/vms').set(h.auth).expect(200)).body.vms as (typeof vm)[];
    vm = vms[0];

    // REST: a tool route with an id in it (404 from the tool), and a path no route matches
    await request(h.url).get(`/jobs/${missingJob}`).set(h.auth).expect(404);
    await request(h.url).get(`/no-such-route/${missingJob}`).set(h.auth).expect(404);
    // POST /{tool}: the reference's flat route goes through the tool invoker like MCP
    await request(h.url).post('/get_nodes').set(h.auth).send({}).expect(200);

    const mcp = await h.mcp();
    const call = async (client: Client, name: string, args: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as ToolResult;
    const ok = await call(mcp, 'get_vm_config', { node: vm.node, vmid: vm.vmid });
    assert.equal(ok.isError, undefined, resultText(ok));
    const missing = await call(mcp, 'get_vm_config', { node: vm.node, vmid: 999_999 });
    assert.match(resultText(missing), /^UPSTREAM_NOT_FOUND: /);
    // MCP refuses an unknown tool at the protocol level; POST /{tool} reaches the invoker, which counts it
    await assert.rejects(call(mcp, 'no_such_tool', {}), /Unknown tool/);
    await request(h.url).post('/no_such_tool').set(h.auth).send({}).expect(404);
    const refused = await call(await mcpAs(READER_KEY), 'start_vm', { node: vm.node, vmid: vm.vmid });
    assert.match(resultText(refused), /^FORBIDDEN: /);
    // a job for the jobs gauge
    const power = vm.status === 'running' ? 'stop_vm' : 'start_vm';
    const job = await call(mcp, power, { node: vm.node, vmid: vm.vmid, wait: true });
    assert.equal(job.isError, undefined, resultText(job));

    // approvals: a request, a refused self-approval, an operator's approval
    const gated = await request(h.url).get(`/nodes/${vm.node}/status`).set(h.auth).expect(403);
    const requestId = gated.body.details.request_id as string;
    await request(h.url).post(`/approvals/${requestId}`).set(h.auth).expect(403);
    await request(h.url).post(`/approvals/${requestId}`).set(as(OPERATOR_KEY)).expect(200);

    await request(h.url).get('/metrics').expect(401);
    // any key may scrape, a read-only one included
    const res = await request(h.url).get('/metrics').set(as(READER_KEY)).expect(200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    scraped = parseExposition(res.text);
  });

  after(async () => {
    await Promise.all(readerClients.map((c) => c.close()));
    await h.close();
  });

  test('HTTP requests are labelled with the route template, never the raw path', () => {
    const labels = { route: '/jobs/{job_id}', method: 'GET', status: '404' };
    assert.equal(value('proxmox_mcp_http_requests_total', labels), 1);
    assert.equal(value('proxmox_mcp_http_request_duration_seconds_count', labels), 1);
    // the reference's series, same names and labels
    assert.ok(value('proxmox_mcp_http_request_latency_ms_sum', labels) >= 0);
    assert.ok(value('proxmox_mcp_http_request_latency_ms_max', labels) >= 0);
    assert.ok(value('proxmox_mcp_http_request_latency_ms_avg', labels) >= 0);
    assert.equal(scraped.types.get('proxmox_mcp_http_request_latency_ms_sum'), 'counter');
    assert.equal(scraped.types.get('proxmox_mcp_http_request_latency_ms_max'), 'gauge');
    assert.equal(scraped.types.get('proxmox_mcp_http_request_duration_seconds'), 'histogram');

    assert.equal(
      value('proxmox_mcp_http_requests_total', { route: '/vms', method: 'GET', status: '200' }),
      1,
    );
    assert.ok(
      value('proxmox_mcp_http_requests_total', { route: '/mcp', method: 'POST', status: '200' }) >= 1,
    );
    assert.equal(
      value('proxmox_mcp_http_requests_total', { route: '/{tool}', method: 'POST', status: '200' }),
      1,
    );
    assert.equal(
      value('proxmox_mcp_http_requests_total', { route: '/{tool}', method: 'POST', status: '404' }),
      1,
    );
    // a 404 without a route has one fixed label (bounded cardinality), and the refused scrape is counted too
    assert.equal(
      value('proxmox_mcp_http_requests_total', { route: '<unmatched>', method: 'GET', status: '404' }),
      1,
    );
    assert.equal(
      value('proxmox_mcp_http_requests_total', { route: '<middleware>', method: 'GET', status: '401' }),
      1,
    );
  });

  test('tool calls are counted once per call by tool, entry point and outcome', () => {
    const calls = (tool: string, via: string, outcome: string) =>
      value('proxmox_mcp_tool_calls_total', { tool, via, outcome });
    assert.equal(calls('get_vm_config', 'mcp', 'success'), 1);
    assert.equal(calls('get_vm_config', 'mcp', 'client_error'), 1, 'UPSTREAM_NOT_FOUND is a 404');
    assert.equal(calls('<unknown>', 'mcp', 'client_error'), 1, 'POST /no_such_tool');
    assert.equal(calls('start_vm', 'mcp', 'denied'), 1, 'the read key may not power VMs');
    assert.equal(calls('get_nodes', 'mcp', 'success'), 1, 'POST /get_nodes');
    assert.equal(calls('get_vms', 'rest', 'success'), 1);
    assert.equal(calls('get_job', 'rest', 'client_error'), 1);
    assert.equal(calls(GATED, 'rest', 'denied'), 1, 'approval required');
    assert.equal(series('proxmox_mcp_tool_calls_total', { tool: 'get_nodes', via: 'rest' }).length, 0);
    assert.equal(
      value('proxmox_mcp_tool_call_duration_seconds_count', {
        tool: 'get_vm_config',
        via: 'mcp',
        outcome: 'success',
      }),
      1,
    );
  });

  test('PVE calls: latency by target, method and path template; errors by code', () => {
    const path = '/nodes/{node}/qemu/{vmid}/config';
    assert.equal(
      value('proxmox_mcp_upstream_request_duration_seconds_count', { target: 'lab', method: 'GET', path }),
      2,
    );
    assert.equal(
      value('proxmox_mcp_upstream_errors_total', {
        target: 'lab',
        method: 'GET',
        path,
        code: 'UPSTREAM_NOT_FOUND',
      }),
      1,
    );
    const power = vm.status === 'running' ? 'stop' : 'start';
    assert.equal(
      value('proxmox_mcp_upstream_request_duration_seconds_count', {
        target: 'lab',
        method: 'POST',
        path: `/nodes/{node}/qemu/{vmid}/status/${power}`,
      }),
      1,
    );
    assert.ok(
      series('proxmox_mcp_upstream_request_duration_seconds_count', {
        path: '/nodes/{node}/tasks/{upid}/status',
      }).length > 0,
      'task polling is templated too',
    );
  });

  test('no label carries an id, a node name, a raw path or a secret', () => {
    const secrets = [API_KEY, READER_KEY, OPERATOR_KEY];
    for (const s of scraped.samples) {
      for (const [label, v] of Object.entries(s.labels)) {
        const where = `${s.name} ${label}="${v}"`;
        for (const secret of secrets) assert.ok(!v.includes(secret), `${where} contains a key`);
        if (label === 'route' || label === 'path' || label === 'tool') {
          assert.ok(!v.includes(missingJob), `${where} contains a job id`);
          assert.ok(!v.includes(vm.node), `${where} contains a node name`);
          assert.ok(!/\d{3,}/.test(v), `${where} contains a number (a vmid?)`);
          assert.ok(!v.includes('no-such-route'), `${where} contains an unmatched path`);
        }
      }
    }
  });

  test('jobs by status, approval decisions and process metrics', () => {
    assert.ok(value('proxmox_mcp_jobs', { status: 'completed' }) >= 1);
    assert.equal(value('proxmox_mcp_jobs', { status: 'running' }), 0);
    assert.equal(value('proxmox_mcp_approval_decisions_total', { decision: 'approved' }), 1);
    assert.equal(value('proxmox_mcp_approval_decisions_total', { decision: 'denied' }), 1, 'self-approval');
    assert.ok(series('process_cpu_user_seconds_total').length === 1);
    assert.ok(series('nodejs_heap_size_used_bytes').length === 1);
  });

  test('/metrics is linked from / and kept out of the OpenAPI document', async () => {
    const root = await request(h.url).get('/').set(h.auth).expect(200);
    assert.equal(root.body.metrics, '/metrics');
    const doc = await request(h.url).get('/openapi.json').set(h.auth).expect(200);
    assert.equal(doc.body.paths['/metrics'], undefined);
  });
});

describe('metrics.enabled=false', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ nodes: 1, guests: 1 }, (sim) => config(sim, { metrics: { enabled: false } }));
  });
  after(() => h.close());

  test('there is no /metrics route and no link to it', async () => {
    await request(h.url).get('/metrics').set(h.auth).expect(404);
    const root = await request(h.url).get('/').set(h.auth).expect(200);
    assert.equal(root.body.metrics, undefined);
  });
});

describe('PVE path templates for the upstream labels', () => {
  test('identifiers become placeholders; PVE path words stay', () => {
    const cases: Array<[string, string]> = [
      ['/nodes/pve1/qemu/100/status/start', '/nodes/{node}/qemu/{vmid}/status/start'],
      [
        '/nodes/pve-2/tasks/UPID%3Apve-2%3A0000A1B2%3A00C0FFEE%3A65F0A1B2%3Aqmstart%3A100%3Aroot%40pam%3A/status',
        '/nodes/{node}/tasks/{upid}/status',
      ],
      [
        '/nodes/pve1/storage/local/content/local%3Aiso%2Fdebian.iso',
        '/nodes/{node}/storage/{storage}/content/{volume}',
      ],
      [
        '/nodes/pve1/lxc/200/snapshot/before-upgrade/rollback',
        '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback',
      ],
      [
        '/nodes/pve1/qemu/100/agent/network-get-interfaces',
        '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
      ],
      ['/cluster/nextid?vmid=100', '/cluster/nextid'],
      // a node literally named like a path word is still a node
      ['/nodes/qemu/qemu/101/config', '/nodes/{node}/qemu/{vmid}/config'],
      // the safety net: an id in a position we do not know is never kept
      ['/cluster/firewall/rules/3', '/cluster/firewall/rules/{id}'],
      ['/access/domains/Example.COM', '/access/domains/{id}'],
    ];
    for (const [path, template] of cases) assert.equal(pvePathTemplate(path), template, path);
  });
});

describe('GET /metrics: an approval that expired before the operator approved it', () => {
  let h: Harness;
  before(async () => {
    // one second (the loader's minimum is 30): set on the built config so the test need not wait half a minute
    h = await startHarness({ nodes: 3, guests: 6 }, (sim) => {
      const base = config(sim);
      return { ...base, commandPolicy: { ...base.commandPolicy, approvalTtlSeconds: 1 } };
    });
  });
  after(() => h?.close());

  test('is refused as CONFLICT and counted as expired, not approved', async () => {
    const gated = await request(h.url).get('/nodes/pve1/status').set(h.auth).expect(403);
    const requestId = gated.body.details.request_id as string;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const late = await request(h.url).post(`/approvals/${requestId}`).set(as(OPERATOR_KEY)).expect(409);
    assert.match(late.body.message, /expired before it was approved/);
    const { samples } = parseExposition((await request(h.url).get('/metrics').set(h.auth).expect(200)).text);
    const decisions = (decision: string) =>
      samples.find((s) => s.name === 'proxmox_mcp_approval_decisions_total' && s.labels.decision === decision)
        ?.value ?? 0;
    assert.equal(decisions('expired'), 1);
    assert.equal(decisions('approved'), 0);
  });
});
