import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AppConfig, ApiKeyConfig } from '../../src/config/app-config.js';
import { placeholderConfig } from '../../src/config/placeholder-config.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { approveAsOperator } from '../helpers/approvals.js';
import { vmIn } from '../helpers/jobs.js';
import { startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { harnessSuite, resultText, simRequests, toolCalls, type ToolResult } from '../helpers/tools.js';

const SNAP_KEY = 'snapshots-key-0123456789abcdef';
const READER_KEY = 'reader-key-0123456789abcdef';

/** A server on the simulator with these mcp settings and extra API keys (besides the admin key `test`). */
const startWith = (
  mcp: Partial<AppConfig['mcp']>,
  keys: ApiKeyConfig[] = [],
  approvals = false,
  http: Partial<AppConfig['http']> = {},
) =>
  startHarness({ nodes: 1, guests: 6 }, (sim) => {
    const base = testConfig([simulatorTargetConfig(sim)]);
    const config: AppConfig = {
      ...base,
      mcp: { ...base.mcp, ...mcp },
      http: { ...base.http, ...http, apiKeys: [...base.http.apiKeys, ...keys] },
    };
    return approvals ? withOperator(config, { highRiskMode: 'enforce' }) : config;
  });

/** An MCP client with another API key; it lists the tools first, so the SDK checks results against outputSchema. */
async function clientWith(h: Harness, key: string): Promise<Client> {
  const client = new Client({ name: 'e2e-key', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  await client.listTools();
  return client;
}

const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();

/** tools/list as a model receives it, in tokens (JSON characters / 4, as docs/tools.md counts them). */
const tokensOf = async (client: Client) => Math.ceil(JSON.stringify(await client.listTools()).length / 4);

describe('toolsets: mcp.toolsets and per-key toolsets choose what is listed and what may be called', () => {
  let h: Harness;
  let mcp: Client;
  let snap: Client;
  const { call, fails } = toolCalls(() => mcp);
  const { lastSeq, since } = simRequests(() => h.sim);

  harnessSuite(
    () =>
      startWith({ toolsets: ['vms', 'snapshots', 'jobs', 'admin'] }, [
        { name: 'snap-bot', secret: SNAP_KEY, scope: 'operate', toolsets: ['snapshots'] },
      ]),
    async (started, client) => {
      h = started;
      mcp = client;
      snap = await clientWith(h, SNAP_KEY);
    },
  );

  test('tools/list and the OpenAPI document show only the selected toolsets', async () => {
    const listed = await names(mcp);
    for (const name of ['get_vms', 'start_vm', 'resize_vm_disk', 'migrate_vm', 'list_snapshots', 'list_jobs'])
      assert.ok(listed.includes(name), `${name} listed`);
    for (const name of [
      'get_containers',
      'list_backups',
      'get_nodes',
      'search_tools',
      'resize_container_disk',
    ])
      assert.ok(!listed.includes(name), `${name} not listed`);
    const doc = (await request(h.url).get('/openapi.json').set(h.auth).expect(200)).body;
    assert.ok(doc.paths['/vms']?.get, 'GET /vms documented');
    assert.equal(doc.paths['/containers']?.get, undefined, 'GET /containers not documented');
  });

  test('a tool outside the selection is FORBIDDEN over MCP and REST, audited, and nothing reaches PVE', async () => {
    const seq = lastSeq();
    await fails(
      'get_containers',
      {},
      'FORBIDDEN',
      /toolset containers.*mcp\.toolsets is vms, snapshots, jobs, admin/,
    );
    const rest = await request(h.url).get('/containers').set(h.auth).expect(403);
    assert.equal(rest.body.details.reason, 'toolset');
    assert.deepEqual(since(seq), []);
    // the refusal is an audit event under the tool's own name
    const audit = await request(h.url)
      .get('/audit/events')
      .query({ action: 'get_containers', outcome: 'denied' })
      .set(h.auth)
      .expect(200);
    assert.ok(JSON.stringify(audit.body).includes('toolset: '), JSON.stringify(audit.body));
  });

  test('a key limited to the snapshots toolset sees and calls only those tools', async () => {
    // an operate key: the snapshot tools its scope allows (delete and rollback need admin)
    assert.deepEqual(await names(snap), ['create_snapshot', 'list_snapshots']);
    const listed = (await snap.callTool({
      name: 'list_snapshots',
      arguments: { node: 'pve1', vmid: 100 },
    })) as ToolResult;
    assert.equal(listed.isError, undefined, resultText(listed));
    const refused = (await snap.callTool({ name: 'get_vms', arguments: {} })) as ToolResult;
    assert.equal(refused.isError, true);
    assert.match(
      resultText(refused),
      /^FORBIDDEN: The API key 'snap-bot' may only use the toolsets snapshots \(not 'get_vms' of toolset vms\)/,
    );
    await request(h.url)
      .get('/vms')
      .set({ authorization: `Bearer ${SNAP_KEY}` })
      .expect(403);
  });

  test('a listed tool runs as before', async () => {
    const r = await call('get_vms');
    assert.equal(r.isError, undefined, resultText(r));
  });
});

describe('toolsets: MCP_TOOLSETS from the environment', () => {
  let h: Harness;
  let mcp: Client;

  harnessSuite(
    // the loader's own parse of the variable, then the server on the simulator with it
    () => startWith({ toolsets: placeholderConfig({ MCP_TOOLSETS: 'ha,catalog' }).mcp.toolsets }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('tools/list has exactly the HA and catalog tools', async () => {
    assert.deepEqual(await names(mcp), [
      'add_ha_resource',
      'add_ha_rule',
      'call_tool',
      'delete_ha_rule',
      'describe_tool',
      'get_ha_status',
      'list_ha_resources',
      'list_ha_rules',
      'migrate_ha_resource',
      'relocate_ha_resource',
      'remove_ha_resource',
      'search_tools',
      'update_ha_resource',
      'update_ha_rule',
    ]);
    // the catalog sees the selection only
    const found = await toolCalls(() => mcp).ok('search_tools', { query: 'list vms' });
    assert.ok(!found.tools.some((t: { name: string }) => t.name === 'get_vms'));
    await request(h.url).get('/vms').set(h.auth).expect(403);
  });
});

describe('compact mode: search_tools, describe_tool and call_tool stand for every tool', () => {
  let h: Harness;
  let mcp: Client;
  let reader: Client;
  const { ok, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);

  harnessSuite(
    () =>
      startWith(
        { toolMode: 'compact' },
        [{ name: 'reader', secret: READER_KEY, scope: 'read', tools: ['get_vms', 'list_pools'] }],
        true,
      ),
    async (started, client) => {
      h = started;
      mcp = client;
      reader = await clientWith(h, READER_KEY);
    },
  );

  test('tools/list shows only the three catalog tools, under 2,000 tokens; REST routes are unchanged', async () => {
    assert.deepEqual(await names(mcp), ['call_tool', 'describe_tool', 'search_tools']);
    const compact = await tokensOf(mcp);
    assert.ok(compact < 2000, `compact tools/list costs ${compact} tokens`);
    const tools = (await mcp.listTools()).tools;
    const callTool = tools.find((t) => t.name === 'call_tool')!;
    assert.equal(callTool.annotations?.readOnlyHint, false, 'call_tool is not read-only for a client');
    assert.equal(callTool.annotations?.destructiveHint, true);
    assert.equal(callTool.annotations?.idempotentHint, false);
    // for comparison: the same server's full list (docs/tools.md prints both)
    const full = await startWith({});
    try {
      const fullTokens = await tokensOf(await full.mcp());
      assert.ok(fullTokens > 20 * compact, `full ${fullTokens} vs compact ${compact}`);
    } finally {
      await full.close();
    }
    await request(h.url).get('/vms').set(h.auth).expect(200);
    // a key with a `tools` limit still gets the catalog, and it shows that key's tools only
    assert.deepEqual(await names(reader), ['call_tool', 'describe_tool', 'search_tools']);
  });

  test('search_tools ranks by name, title, argument names and description, and says why', async () => {
    const r = (await mcp.callTool({
      name: 'search_tools',
      arguments: { query: 'snapshot rollback', limit: 3 },
    })) as ToolResult;
    const hits = r.structuredContent.tools as Array<{ name: string; matched: string[]; toolset: string }>;
    assert.equal(hits[0].name, 'rollback_snapshot');
    assert.deepEqual(hits[0].matched, ['snapshot:name', 'rollback:name']);
    assert.equal(hits[0].toolset, 'snapshots');
    assert.equal(hits.length, 3);
    assert.ok(r.structuredContent.total > 3);
    assert.match(resultText(r), /^\d+ tools match \(first 3\):\n- rollback_snapshot \[snapshots, destroy\]/);
    // a toolset without words: browse it
    const browse = await ok('search_tools', { toolset: 'snapshots' });
    assert.deepEqual(
      browse.tools.map((t: { name: string }) => t.name),
      ['create_snapshot', 'delete_snapshot', 'list_snapshots', 'rollback_snapshot'],
    );
    // the catalog does not list itself
    const self = await ok('search_tools', { query: 'call tool', limit: 100 });
    assert.ok(!self.tools.some((t: { name: string }) => ['call_tool', 'search_tools'].includes(t.name)));
    await fails('search_tools', { toolset: 'nope' }, 'VALIDATION', /toolset/);
    // REST: the same search
    const rest = await request(h.url)
      .get('/tools')
      .query({ query: 'snapshot rollback', limit: '2' })
      .set(h.auth)
      .expect(200);
    assert.equal(rest.body.tools[0].name, 'rollback_snapshot');
    assert.equal(rest.body.tools.length, 2);
  });

  test('search_tools and describe_tool see only what the caller may call', async () => {
    const mine = (await reader.callTool({
      name: 'search_tools',
      arguments: { query: 'pool vm' },
    })) as ToolResult;
    assert.deepEqual((mine.structuredContent.tools as Array<{ name: string }>).map((t) => t.name).sort(), [
      'get_vms',
      'list_pools',
    ]);
    const hidden = (await reader.callTool({
      name: 'describe_tool',
      arguments: { name: 'delete_pool' },
    })) as ToolResult;
    assert.equal(hidden.isError, true);
    assert.match(resultText(hidden), /^NOT_FOUND: No tool 'delete_pool' is available to this caller/);
  });

  test('describe_tool gives the full schemas, approval_token included', async () => {
    const d = await ok('describe_tool', { name: 'delete_pool' });
    assert.equal(d.toolset, 'cluster');
    assert.equal(d.risk, 'destroy');
    assert.deepEqual(d.input_schema.required, ['poolid']);
    assert.equal(d.input_schema.properties.approval_token.type, 'string');
    assert.equal(d.output_schema.type, 'object');
    await fails('describe_tool', { name: 'no_such_tool' }, 'NOT_FOUND', /search_tools/);
    await fails('describe_tool', { name: 'Bad Name' }, 'VALIDATION', /name must be a tool name/);
    const rest = await request(h.url).get('/tools/get_vms').set(h.auth).expect(200);
    assert.equal(rest.body.name, 'get_vms');
  });

  test('call_tool runs a tool as a direct call does: same result, same text, same validation', async () => {
    const direct = (await mcp.callTool({ name: 'get_vms', arguments: {} })) as ToolResult;
    const viaCatalog = (await mcp.callTool({
      name: 'call_tool',
      arguments: { name: 'get_vms' },
    })) as ToolResult;
    assert.equal(viaCatalog.isError, undefined, resultText(viaCatalog));
    assert.deepEqual(viaCatalog.structuredContent, { tool: 'get_vms', result: direct.structuredContent });
    assert.equal(resultText(viaCatalog), resultText(direct));
    await fails(
      'call_tool',
      { name: 'get_vm_config', arguments: { node: 'pve1', vmid: 100, colour: 'red' } },
      'VALIDATION',
      /unknown argument 'colour'; get_vm_config accepts: /,
    );
    await fails(
      'call_tool',
      { name: 'call_tool', arguments: { name: 'get_vms' } },
      'VALIDATION',
      /call it directly/,
    );
    await fails('call_tool', { name: 'search_tools' }, 'VALIDATION', /call_tool does not run search_tools/);
    await fails('call_tool', { name: 'no_such_tool' }, 'NOT_FOUND');
    // REST: POST /tools/{name}/call
    const rest = await request(h.url)
      .post('/tools/get_vms/call')
      .set(h.auth)
      .send({ arguments: {} })
      .expect(200);
    assert.equal(rest.body.tool, 'get_vms');
  });

  test("call_tool checks the caller's scope and key limits like a direct call", async () => {
    const seq = lastSeq();
    const refused = (await reader.callTool({
      name: 'call_tool',
      arguments: { name: 'delete_pool', arguments: { poolid: 'lab' } },
    })) as ToolResult;
    assert.equal(refused.isError, true);
    assert.match(
      resultText(refused),
      /^FORBIDDEN: Tool 'delete_pool' \(risk destroy\) needs an API key with scope 'admin'/,
    );
    const listed = (await reader.callTool({
      name: 'call_tool',
      arguments: { name: 'list_pools' },
    })) as ToolResult;
    assert.equal(listed.isError, undefined, resultText(listed));
    assert.deepEqual(mutations(seq), []);
  });

  test('an approval-needing tool through call_tool: APPROVAL_REQUIRED, then runs once with the token; audited by name', async () => {
    const seq = lastSeq();
    const asked = (await mcp.callTool({
      name: 'call_tool',
      arguments: { name: 'delete_pool', arguments: { poolid: 'lab' } },
    })) as ToolResult;
    assert.match(resultText(asked), /^APPROVAL_REQUIRED: High-risk operation 'delete_pool'/);
    assert.deepEqual(mutations(seq), []);
    assert.ok(h.sim.cluster.pools.has('lab'));
    const token = await approveAsOperator(
      h.url,
      /Approval request ([0-9a-f-]{36})/.exec(resultText(asked))![1],
    );
    const done = await ok('call_tool', {
      name: 'delete_pool',
      arguments: { poolid: 'lab', approval_token: token },
    });
    assert.equal(done.tool, 'delete_pool');
    assert.ok(!h.sim.cluster.pools.has('lab'));
    assert.equal(mutations(seq).length, 1);
    // again: the pool is gone, which the tool says before any approval is looked at
    await fails(
      'call_tool',
      { name: 'delete_pool', arguments: { poolid: 'lab', approval_token: token } },
      'NOT_FOUND',
      /no resource pool 'lab'/,
    );

    const events = await ok('call_tool', { name: 'list_audit_events', arguments: { action: 'delete_pool' } });
    const rows = events.result.events as Array<{ action: string; outcome: string; actor: string }>;
    assert.ok(
      rows.some((e) => e.outcome === 'succeeded' && e.actor === 'test'),
      JSON.stringify(rows),
    );
    const callToolRows = await ok('call_tool', {
      name: 'list_audit_events',
      arguments: { action: 'call_tool' },
    });
    assert.equal(callToolRows.result.total, 0, 'call_tool itself is not audited: the tool it ran is');
  });

  test('call_tool streams the progress of the job the tool waits for', async () => {
    const vm = vmIn(h.sim, 'stopped');
    h.sim.tasks.script({
      match: { type: 'qmstart', id: String(vm.vmid) },
      log: ['starting'],
      progress: true,
      durationMs: 1500,
    });
    const progress: number[] = [];
    const res = (await mcp.callTool(
      {
        name: 'call_tool',
        arguments: { name: 'start_vm', arguments: { node: vm.node, vmid: vm.vmid, wait: true } },
      },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    )) as ToolResult;
    assert.equal(res.isError, undefined, resultText(res));
    assert.equal(res.structuredContent.tool, 'start_vm');
    assert.equal(res.structuredContent.result.status, 'completed');
    assert.ok(progress.length >= 1, 'at least one progress notification');
    assert.equal(progress.at(-1), 100);
  });
});

describe('compact mode: a call through call_tool counts once against the rate limit', () => {
  let mcp: Client;
  const { ok, fails } = toolCalls(() => mcp);

  harnessSuite(
    () => startWith({ toolMode: 'compact' }, [], false, { rateLimitRpm: 3 }),
    (_started, client) => {
      mcp = client;
    },
  );

  test('three calls pass at 3 per minute, the fourth is RATE_LIMITED', async () => {
    for (let i = 0; i < 3; i++) await ok('call_tool', { name: 'get_nodes' });
    await fails('call_tool', { name: 'get_nodes' }, 'RATE_LIMITED');
  });
});
