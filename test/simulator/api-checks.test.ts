import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

describe('simulator: PVE front checks (token, 501, 400) against the real schema', () => {
  let sim: PveSimulator;
  let api: SimClient;

  simulatorApiSuite(
    {},
    (started) => {
      ({ sim, api } = started);
      assert.equal(
        sim.schemaChecked,
        true,
        'these tests need ../shared/pve-api/apidoc.json (or PVE_API_SCHEMA)',
      );
    },
    { schemaViolationsExpected: true },
  );

  test('every answer carries the pve-api-daemon headers and the data envelope', async () => {
    const res = await api.get('/version');
    assert.equal(res.status, 200);
    assert.equal(res.headers.server, 'pve-api-daemon/3.0');
    assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
    assert.deepEqual(Object.keys(res.json.data).sort(), ['release', 'repoid', 'version']);
  });

  test('no token → 401 "No ticket", a wrong one → 401 "Authentication failed!", both with an empty body', async () => {
    const missing = await api.get('/version', { auth: false });
    assert.equal(missing.status, 401);
    assert.equal(missing.reason, 'No ticket');
    assert.equal(missing.text, '');
    const t = sim.token;
    for (const header of [
      `PVEAPIToken=${t.user}!${t.tokenName}=wrong-secret`,
      `PVEAPIToken=${t.user}!other=${t.secret}`,
      `PVEAPIToken=nobody@pve!${t.tokenName}=${t.secret}`,
      `PVEAPIToken=${t.user}!${t.tokenName}`,
    ]) {
      const res = await api.get('/version', { auth: header });
      assert.equal(res.status, 401, header);
      assert.equal(res.reason, 'Authentication failed!');
      assert.equal(res.text, '');
    }
    const ticket = await api.get('/version', {
      headers: { cookie: 'PVEAuthCookie=PVE:root@pam:4EEC61E2::abc' },
    });
    assert.equal(ticket.status, 401, 'a ticket cookie wins over the token and is not accepted');
  });

  test('the token is also accepted with a space instead of "=" (pve-http-server extract_auth_value)', async () => {
    const t = sim.token;
    const res = await api.get('/version', { auth: `PVEAPIToken ${t.user}!${t.tokenName}=${t.secret}` });
    assert.equal(res.status, 200);
  });

  test('unknown path and unsupported method → 501 with PVE text, relative path in it', async () => {
    const unknown = await api.get('/foo/bar');
    assert.equal(unknown.status, 501);
    assert.equal(unknown.reason, "Method 'GET /foo/bar' not implemented");
    assert.equal(unknown.json.message, "Method 'GET /foo/bar' not implemented\n");
    assert.equal(unknown.headers.connection, 'close', 'errors close the connection like PVE');
    const wrongMethod = await api.post('/cluster/resources');
    assert.equal(wrongMethod.reason, "Method 'POST /cluster/resources' not implemented");
  });

  test('an endpoint PVE has but the simulator lacks says so, distinctly', async () => {
    const res = await api.get('/nodes/pve1/qemu/100/firewall/refs');
    assert.equal(res.status, 501);
    assert.equal(
      res.reason,
      "Method 'GET /nodes/pve1/qemu/100/firewall/refs' not implemented by the PVE simulator",
    );
  });

  test('bad parameters → 400 "Parameter verification failed." with PVE-worded errors', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      [
        '/cluster/resources?type=qemu',
        { type: "value 'qemu' does not have a value in the enumeration 'vm, storage, node, sdn'" },
      ],
      [
        '/cluster/resources?full=1',
        { full: 'property is not defined in schema and the schema does not allow additional properties' },
      ],
      ['/nodes/pve1/qemu/0100/config', { vmid: 'invalid format - value does not look like a valid VM ID\n' }],
      ['/nodes/pve1/qemu/99/config', { vmid: 'invalid format - value does not look like a valid VM ID\n' }],
      ['/nodes/pve1/lxc/101/rrddata', { timeframe: 'property is missing and it is not optional' }],
      ['/nodes/pve1/qemu?full=true', { full: "type check ('boolean') failed - got 'true'" }],
    ];
    for (const [path, errors] of cases) {
      const res = await api.get(path);
      assert.equal(res.status, 400, path);
      assert.equal(res.reason, 'Parameter verification failed.');
      assert.deepEqual(res.json, { data: null, message: 'Parameter verification failed.\n', errors }, path);
    }
  });

  test('property strings are checked sub-key by sub-key', async () => {
    const res = await api.post('/nodes/pve1/qemu', { vmid: '150', net0: 'virtio,bridge=vmbr0,foo=1' });
    assert.equal(res.status, 400);
    assert.equal(
      res.json.errors.net0,
      'invalid format - invalid key in comma-separated list property: foo\n',
    );
  });

  test('a body on GET → 501 "Unexpected content", a path parameter sent again with another value → 400', async () => {
    const body = await api.call('/version', {
      method: 'GET',
      body: 'a=1',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(body.status, 501);
    assert.equal(body.reason, "Unexpected content for method 'GET'");
    const dup = await api.post('/nodes/pve1/qemu/100/status/start', { vmid: '101' });
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.json.errors, {
      vmid: 'duplicate parameter (already defined in URI) with conflicting values!',
    });
  });

  test('POST parameters are accepted form-encoded (repeated keys = array) and as JSON', async () => {
    // agent/exec takes `command` as an array: repeated form keys or a JSON array both start the process
    const form = await api.post('/nodes/pve1/qemu/100/agent/exec', { command: ['/bin/sh', '-c', 'uptime'] });
    assert.equal(form.status, 200, form.reason);
    assert.equal(typeof form.json.data.pid, 'number');
    const json = await api.postJson('/nodes/pve1/qemu/100/agent/exec', {
      command: ['/bin/sh', '-c', 'uptime'],
    });
    assert.equal(json.status, 200, json.reason);
    const badJson = await api.postJson('/nodes/pve1/qemu/100/status/shutdown', { timeout: 'soon' });
    assert.equal(badJson.status, 400);
    assert.deepEqual(badJson.json.errors, { timeout: "type check ('integer') failed - got 'soon'" });
    const ok = await api.postJson('/nodes/pve1/qemu/100/status/shutdown', { timeout: 30, forceStop: true });
    assert.equal(ok.status, 200, ok.reason);
    assert.match(
      ok.json.data,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmshutdown:100:root@pam!mcp:$/,
    );
  });

  test('allowtoken=0 endpoints refuse API tokens with 403', async () => {
    const res = await api.post('/access/ticket', { username: 'root@pam', password: 'x' });
    assert.equal(res.status, 403);
    assert.equal(
      res.reason,
      "Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.",
    );
  });

  test('the request log records every call, and schemaViolations() lists exactly the refused ones', async () => {
    sim.clearRequests();
    await api.get('/cluster/resources?type=vm');
    await api.get('/cluster/resources?type=qemu');
    await api.get('/no/such/path');
    await api.get('/cluster/nextid?vmid=100'); // a legitimate 400 (id taken) is not a violation
    const records = sim.requests;
    assert.equal(records.length, 4);
    assert.deepEqual(
      records.map((r) => [r.method, r.path, r.status]),
      [
        ['GET', '/cluster/resources', 200],
        ['GET', '/cluster/resources', 400],
        ['GET', '/no/such/path', 501],
        ['GET', '/cluster/nextid', 400],
      ],
    );
    assert.deepEqual(records[0].query, { type: 'vm' });
    assert.equal(sim.requestCount({ path: '/cluster/resources' }), 2);
    assert.equal(sim.requestCount({ method: 'get', path: /^\/cluster\// }), 3);
    const violations = sim.schemaViolations();
    assert.deepEqual(
      violations.map((v) => v.path),
      ['/cluster/resources', '/no/such/path'],
    );
    assert.ok(violations[0].schemaErrors?.type);
    sim.clearRequests();
  });
});
