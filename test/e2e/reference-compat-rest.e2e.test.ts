import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { vmIn } from '../helpers/jobs.js';
import { simulatorSuite } from '../helpers/suite.js';
import { API_KEY, testConfig } from '../helpers/test-app.js';

/**
 * Issue 20, items 4, 5 and 9: what scripts and FastAPI-style clients written for the reference (ProxmoxMCP-Plus)
 * read from the REST answers (GET /jobs as a JSON array, 404 "Job was not found", `detail` in every error body,
 * "Field required" for a missing argument, auth failures rate limited), over REST and the MCP SDK client.
 */

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('reference compatibility over REST: job routes, error bodies, missing arguments', () => {
  const s = simulatorSuite({ nodes: 2, guests: 40 });

  test('GET /jobs answers a JSON array (paging in X-Total-Count/X-Limit/X-Offset); MCP list_jobs keeps its object', async () => {
    for (let i = 0; i < 3; i++) await s.ok('start_vm', vmIn(s.h.sim, 'stopped'));

    const all = await request(s.h.url).get('/jobs').set(s.h.auth).expect(200);
    assert.ok(
      Array.isArray(all.body),
      `a JSON array, as the reference: ${JSON.stringify(all.body).slice(0, 200)}`,
    );
    assert.equal(all.body.length, 3);
    assert.ok(all.body.every((j: { job_id: string; tool_name: string }) => j.tool_name === 'start_vm'));
    assert.equal(all.headers['x-total-count'], '3');

    const page = await request(s.h.url)
      .get('/jobs?tool_name=start_vm&limit=2&offset=1')
      .set(s.h.auth)
      .expect(200);
    assert.equal(page.body.length, 2);
    assert.equal(page.body[0].job_id, all.body[1].job_id, 'newest first, offset 1');
    assert.deepEqual(
      [page.headers['x-total-count'], page.headers['x-limit'], page.headers['x-offset']],
      ['3', '2', '1'],
    );

    // MCP and the reference's POST /list_jobs keep the structured object
    const listed = await s.ok('list_jobs', { limit: 2 });
    assert.equal(listed.total, 3);
    assert.equal(listed.jobs.length, 2);
    const viaTool = await request(s.h.url).post('/list_jobs').set(s.h.auth).send({}).expect(200);
    assert.equal(viaTool.body.total, 3);

    // the OpenAPI document says so
    const doc = await request(s.h.url).get('/openapi.json').set(s.h.auth).expect(200);
    const ok = doc.body.paths['/jobs'].get.responses['200'];
    assert.equal(ok.content['application/json'].schema.type, 'array');
    assert.ok(ok.headers['X-Total-Count']);
  });

  test('an unknown job id is 404 "Job was not found", whatever its format, on every job route and over MCP', async () => {
    for (const id of [UNKNOWN_UUID, 'not-a-uuid', '42']) {
      const got = await request(s.h.url).get(`/jobs/${id}`).set(s.h.auth).expect(404);
      assert.equal(got.body.message, 'Job was not found');
      assert.equal(got.body.detail, 'Job was not found');
      assert.equal(got.body.code, 'NOT_FOUND');
      assert.match(got.body.hint, /list_jobs/);
      for (const action of ['poll', 'cancel', 'retry', 'wait', 'reconcile']) {
        const res = await request(s.h.url).post(`/jobs/${id}/${action}`).set(s.h.auth).send({}).expect(404);
        assert.equal(res.body.message, 'Job was not found', `${action} ${id}`);
      }
      await request(s.h.url).get(`/jobs/${id}/events`).set(s.h.auth).expect(404);
    }
    const text = await s.fails('get_job', { job_id: 'not-a-uuid' }, 'NOT_FOUND', /Job was not found/);
    assert.match(text, /"not-a-uuid"/, 'the hint names the id that was asked for');
  });

  test('a failed POST /{tool_name} call carries the reference\'s detail {message: "Error executing tool X: …"}', async () => {
    const res = await request(s.h.url).post('/get_job').set(s.h.auth).send({ job_id: 'nope' }).expect(404);
    assert.deepEqual(res.body.detail, { message: 'Error executing tool get_job: Job was not found' });
    assert.equal(res.body.code, 'NOT_FOUND');
    assert.equal(res.body.message, 'Job was not found');
  });

  test('a missing argument is "Field required" with the field name, beside our explanation (REST detail list, MCP text)', async () => {
    const rest = await request(s.h.url).post('/start_vm').set(s.h.auth).send({ node: 'pve1' }).expect(400);
    assert.equal(rest.body.code, 'VALIDATION');
    assert.deepEqual(
      rest.body.detail.find((d: { loc: string[] }) => d.loc.at(-1) === 'vmid'),
      { loc: ['body', 'vmid'], msg: 'Field required', type: 'missing' },
    );
    assert.ok(!rest.body.detail.some((d: { loc: string[] }) => d.loc.at(-1) === 'node'), 'node was given');
    assert.match(rest.body.message, /vmid: Field required \(vmid must be/);

    // the resource route names the slot the field belongs to
    const route = await request(s.h.url).post('/nodes/pve1/vms').set(s.h.auth).send({}).expect(400);
    const missing = route.body.detail.filter((d: { type: string }) => d.type === 'missing');
    assert.ok(
      missing.some((d: { loc: string[] }) => d.loc.join('.') === 'body.name'),
      JSON.stringify(route.body),
    );

    // a value that is there but wrong is not "missing"
    const wrong = await request(s.h.url)
      .post('/start_vm')
      .set(s.h.auth)
      .send({ node: 'pve1', vmid: 'abc' })
      .expect(400);
    const vmid = wrong.body.detail.find((d: { loc: string[] }) => d.loc.at(-1) === 'vmid');
    assert.equal(vmid.type, 'value_error');
    assert.doesNotMatch(wrong.body.message, /Field required/);

    const text = await s.fails('start_vm', { node: 'pve1' }, 'VALIDATION', /vmid: Field required/);
    assert.match(text, /vmid must be/, 'our explanation stays');
  });

  test("auth failures: 401 with the reference's detail text beside our code and message", async () => {
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'Missing or invalid Authorization header'],
      ['Bearer', 'Missing or invalid Authorization header'],
      ['Bearer wrong-key-0123456789abcdef', 'Invalid API key'],
      ['Basic not-base64', 'Invalid Basic Authentication format'],
      [basic('operator', 'wrong-password'), 'Invalid credentials'],
      [`Token ${API_KEY}`, 'Unsupported authorization method'],
    ];
    for (const [header, detail] of cases) {
      const req = request(s.h.url).get('/jobs');
      if (header !== undefined) req.set('authorization', header);
      const res = await req.expect(401);
      assert.equal(res.body.detail, detail, `${header}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'UNAUTHORIZED');
      assert.equal(typeof res.body.message, 'string');
    }
    const malformed = await request(s.h.url)
      .get('/jobs')
      .set('authorization', 'Basic not-base64')
      .expect(401);
    assert.match(malformed.body.message, /^Invalid Basic Authentication format/);
    // a valid key sent as Basic to an API route stays refused (documentation only), and says how to send it
    const viaBasic = await request(s.h.url)
      .get('/jobs')
      .set('authorization', basic('x', API_KEY))
      .expect(401);
    assert.match(viaBasic.body.detail, /Bearer/);
  });
});

describe('reference compatibility: unauthenticated requests are rate limited too', () => {
  const limited = simulatorSuite({ nodes: 1, guests: 2 }, (sim) => {
    const config = testConfig([simulatorTargetConfig(sim)]);
    return { ...config, http: { ...config.http, rateLimitRpm: 1, authFailureLimit: 20 } };
  });

  test('rate_limit_rpm=1: a first request without a key is 401, the second 429 (as the reference); a valid key still passes', async () => {
    const first = await request(limited.h.url).get('/health').expect(401);
    assert.equal(first.body.detail, 'Missing or invalid Authorization header');
    const second = await request(limited.h.url).get('/health').expect(429);
    assert.equal(second.body.code, 'RATE_LIMITED');
    assert.equal(second.body.detail, 'Too many requests');
    assert.ok(Number(second.headers['retry-after']) >= 1);
    // /mcp shares the count (one address)
    const mcp = await request(limited.h.url)
      .post('/mcp')
      .set('authorization', 'Bearer wrong-key-0123456789abcdef')
      .set('content-type', 'application/json')
      .set('accept', 'application/json, text/event-stream')
      .send({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
      .expect(429);
    assert.equal(mcp.body.error.code, -32001);
    await request(limited.h.url).get('/livez').expect(200);
    await request(limited.h.url).get('/health').set(limited.h.auth).expect(200);
  });
});

describe('reference compatibility: a flood of bad keys gets 429, not endless 401', () => {
  const flooded = simulatorSuite({ nodes: 1, guests: 2 }, (sim) => {
    const config = testConfig([simulatorTargetConfig(sim)]);
    return { ...config, http: { ...config.http, authFailureLimit: 20 } };
  });

  test('without rate_limit_rpm: after auth_failure_limit failures on REST and /mcp, further failures are 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res =
        i % 2
          ? await request(flooded.h.url).get('/jobs').set('authorization', `Bearer bad-${i}-0123456789abcdef`)
          : await request(flooded.h.url)
              .post('/mcp')
              .set('authorization', `Bearer bad-${i}-0123456789abcdef`)
              .set('content-type', 'application/json')
              .set('accept', 'application/json, text/event-stream')
              .send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [...Array<number>(20).fill(401), 429, 429]);
    const rest = await request(flooded.h.url).get('/jobs').set('authorization', 'Bearer bad').expect(429);
    assert.equal(rest.body.detail, 'Too many requests');
    const mcp = await flooded.mcp.listTools();
    assert.ok(mcp.tools.length > 0, 'a valid key is still served');
  });
});
