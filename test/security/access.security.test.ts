import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { jobsOf, startVmSpec, vmIn } from '../helpers/jobs.js';
import { API_KEY, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { Clients, KEYS, bearer, callTool, scopedKeys, textOf } from './helpers.js';

const LAB_KEY = 'sec-lab-only-key-0123456789abcdef';
const VMS_KEY = 'sec-vms-only-key-0123456789abcdef';
const NO_JOB = '00000000-0000-4000-8000-000000000000';

/** Scopes, per-key limits and read-only targets: what a caller sees is what it may call, on every path. */
describe('API key scopes, key limits and read-only targets (MCP, POST /{tool} and REST alike)', () => {
  let h: Harness;
  const clients = new Clients();
  let admin: Client;
  let reader: Client;
  let operator: Client;
  let allTools: Array<{
    name: string;
    annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; openWorldHint?: boolean };
  }>;

  before(async () => {
    h = await startHarness({ nodes: 2, guests: 24 }, (sim) =>
      testConfig(
        [
          simulatorTargetConfig(sim, { name: 'lab' }),
          simulatorTargetConfig(sim, { name: 'prod', readOnly: true }),
        ],
        {
          http: {
            ...testConfig([]).http,
            apiKeys: [
              ...testConfig([]).http.apiKeys,
              ...scopedKeys(),
              { name: 'lab-operator', secret: LAB_KEY, scope: 'operate', targets: ['lab'] },
              { name: 'vms-reader', secret: VMS_KEY, scope: 'read', tools: ['get_vms', 'get_nodes'] },
            ],
          },
        },
      ),
    );
    admin = await h.mcp();
    reader = await clients.as(h.url, KEYS.read);
    operator = await clients.as(h.url, KEYS.operate);
    allTools = (await admin.listTools()).tools;
  });
  after(async () => {
    await clients.closeAll();
    await h.close();
  });

  const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();

  test('tools/list shows each key only what its scope and limits allow', async () => {
    const readTools = allTools.filter((t) => t.annotations?.readOnlyHint).map((t) => t.name);
    const seenByReader = await names(reader);
    assert.ok(seenByReader.includes('get_vms') && seenByReader.includes('list_jobs'));
    // call_tool is open to every key (not read-only for a client): the tool it runs is checked like a direct call
    for (const name of seenByReader)
      assert.ok(readTools.includes(name) || name === 'call_tool', `${name} is a read tool`);
    assert.ok(!seenByReader.includes('list_audit_events'), 'the audit log needs admin');
    assert.ok(!seenByReader.includes('cancel_job'));

    const seenByOperator = await names(operator);
    assert.ok(seenByOperator.includes('cancel_job') && seenByOperator.includes('retry_job'));
    assert.ok(!seenByOperator.includes('list_audit_events'));
    // risk destroy (destructive, not open-world like exec) needs admin
    const destroyTools = allTools
      .filter((t) => t.annotations?.destructiveHint && !t.annotations.openWorldHint)
      .map((t) => t.name);
    for (const name of destroyTools) assert.ok(!seenByOperator.includes(name), `${name} needs admin`);

    assert.deepEqual(await names(await clients.as(h.url, KEYS.admin)), allTools.map((t) => t.name).sort());
    assert.deepEqual(await names(await clients.as(h.url, VMS_KEY)), ['get_nodes', 'get_vms']);
  });

  test('a tool outside the scope is refused identically over MCP, POST /{tool} and its REST route, before PVE', async () => {
    const before = h.sim.totalRequests;
    const expected =
      "Tool 'cancel_job' (risk mutate) needs an API key with scope 'operate'; the key 'reader' has scope 'read'";
    const viaMcp = await callTool(reader, 'cancel_job', { job_id: NO_JOB });
    assert.equal(viaMcp.isError, true);
    assert.ok(textOf(viaMcp).startsWith(`FORBIDDEN: ${expected}`), textOf(viaMcp));

    const viaToolRoute = await request(h.url)
      .post('/cancel_job')
      .set(bearer(KEYS.read))
      .send({ job_id: NO_JOB });
    assert.equal(viaToolRoute.status, 403);
    assert.equal(viaToolRoute.body.code, 'FORBIDDEN');
    assert.equal(viaToolRoute.body.message, expected);

    const viaRest = await request(h.url).post(`/jobs/${NO_JOB}/cancel`).set(bearer(KEYS.read)).send({});
    assert.equal(viaRest.status, 403);
    assert.equal(viaRest.body.message, expected);
    assert.equal(h.sim.totalRequests, before, 'nothing reached PVE');

    // the operator may: the refusal was the scope, not the tool (this job does not exist)
    const allowed = await callTool(operator, 'cancel_job', { job_id: NO_JOB });
    assert.match(textOf(allowed), /^NOT_FOUND/);
  });

  test('admin-only tools need admin: the audit log, over MCP and GET /audit/events', async () => {
    const refused = await callTool(operator, 'list_audit_events');
    assert.equal(refused.isError, true);
    assert.match(
      textOf(refused),
      /needs an API key with scope 'admin'; the key 'operator' has scope 'operate'/,
    );
    await request(h.url).get('/audit/events').set(bearer(KEYS.operate)).expect(403);
    await request(h.url).get('/audit/events').set(bearer(KEYS.admin)).expect(200);
  });

  test('per-key tool limits: other tools are refused even within the scope', async () => {
    const vmsOnly = await clients.as(h.url, VMS_KEY);
    const refused = await callTool(vmsOnly, 'get_storage', { target: 'lab' });
    assert.match(textOf(refused), /^FORBIDDEN: The API key 'vms-reader' may only call: get_vms, get_nodes/);
    const ok = await callTool(vmsOnly, 'get_vms', { target: 'lab' });
    assert.equal(ok.isError, undefined, textOf(ok));
  });

  test('per-key target limits apply to the target argument and to the target of a job', async () => {
    const lab = await clients.as(h.url, LAB_KEY);
    assert.equal((await callTool(lab, 'get_vms', { target: 'lab' })).isError, undefined);
    const refused = await callTool(lab, 'get_vms', { target: 'prod' });
    assert.match(
      textOf(refused),
      /^FORBIDDEN: The API key 'lab-operator' may only use the target lab \(not 'prod'\)/,
    );
    await request(h.url).get('/vms?target=prod').set(bearer(LAB_KEY)).expect(403);

    const prodJob = await jobsOf(h.server.app).track({
      ...startVmSpec(vmIn(h.sim, 'stopped')),
      target: 'prod',
    });
    const jobRefused = await callTool(lab, 'get_job', { job_id: prodJob.job_id });
    assert.match(textOf(jobRefused), /may only use the target lab \(not 'prod'\)/);
  });

  test('a read-only target refuses every non-read tool, also reached through a job id', async () => {
    const reads = await callTool(operator, 'get_vms', { target: 'prod' });
    assert.equal(reads.isError, undefined);
    const job = await jobsOf(h.server.app).track({ ...startVmSpec(vmIn(h.sim, 'stopped')), target: 'prod' });
    const refused = await callTool(operator, 'cancel_job', { job_id: job.job_id });
    assert.match(
      textOf(refused),
      /^FORBIDDEN: Target 'prod' is read-only \(targets\.prod\.read_only\): 'cancel_job' \(risk mutate\) is refused there/,
    );
    const rest = await request(h.url).post(`/jobs/${job.job_id}/cancel`).set(bearer(KEYS.admin)).send({});
    assert.equal(rest.status, 403, 'admin too: read-only is about the target, not the caller');
  });

  test('the OpenAPI document lists only the operations the key may call', async () => {
    const ops = async (key: string) => {
      const doc = (await request(h.url).get('/openapi.json').set(bearer(key)).expect(200)).body;
      return Object.values<Record<string, any>>(doc.paths)
        .flatMap((methods) => Object.values<any>(methods))
        .map((op) => op['x-mcp-tool']?.name)
        .filter(Boolean);
    };
    const readerOps = await ops(KEYS.read);
    assert.ok(readerOps.includes('get_vms'));
    assert.ok(!readerOps.includes('cancel_job'), 'neither the REST route nor POST /cancel_job');
    assert.ok(!readerOps.includes('list_audit_events'));
    assert.deepEqual([...new Set(await ops(VMS_KEY))].sort(), ['get_nodes', 'get_vms']);
    assert.ok((await ops(API_KEY)).includes('list_audit_events'));
  });

  test('every refusal is an audit event: who, which tool, which target, an arguments digest, why', async () => {
    const audit = h.server.app.get(AuditService);
    const { events } = await audit.list({ actor: 'reader', action: 'cancel_job', outcome: 'denied' });
    assert.ok(events.length >= 3, 'MCP, POST /cancel_job and the REST route');
    for (const e of events) {
      assert.match(e.args_digest ?? '', /^[0-9a-f]{64}$/);
      assert.match(e.reason ?? '', /^scope: /);
    }
    // the same call has the same digest whichever path it took
    assert.equal(new Set(events.map((e) => e.args_digest)).size, 1);
    assert.deepEqual(new Set(events.map((e) => e.details?.via)), new Set(['mcp', 'rest']));

    const viaTool = await callTool(admin, 'list_audit_events', { outcome: 'denied', actor: 'lab-operator' });
    assert.equal(viaTool.isError, undefined, textOf(viaTool));
    const targets = viaTool.structuredContent.events.map((e: { target: string }) => e.target);
    assert.ok(targets.includes('prod'));
  });
});
