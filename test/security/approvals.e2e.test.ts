import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { AppConfig, CommandPolicyConfig } from '../../src/config/app-config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.command.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { openDatabase } from '../../src/database/database-bootstrap.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { API_KEY, SCHEMA_PATH, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

// A read tool made high-risk through command_policy.high_risk_operations: the approval flow is the same code path
// for any gated tool (the digest, the guard, the store, the CLI). A gated call runs its reads before its approval
// is settled (approvals-precheck.e2e.test.ts); a read tool's answer is held back until then, and nothing but reads
// ever reaches PVE. approvals-destroy.e2e.test.ts counts the changes of a real destroy tool.
const GATED = 'get_vm_config';
const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const OTHER_KEY = 'other-agent-key-0123456789abcdef';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

function config(
  sim: Parameters<typeof simulatorTargetConfig>[0],
  dbPath: string,
  policy: Partial<CommandPolicyConfig> = {},
) {
  const base = testConfig([simulatorTargetConfig(sim)]);
  return {
    ...base,
    http: {
      ...base.http,
      apiKeys: [
        ...base.http.apiKeys, // `test` (admin): the agent in these tests
        { name: 'operator', secret: OPERATOR_KEY, scope: 'admin' },
        { name: 'other', secret: OTHER_KEY, scope: 'operate' },
      ],
    },
    jobs: { sqlitePath: dbPath },
    commandPolicy: { ...base.commandPolicy, highRiskMode: 'enforce', highRiskOperations: [GATED], ...policy },
  } satisfies AppConfig;
}

const requestIdOf = (r: ToolResult) => /Approval request ([0-9a-f-]{36})/.exec(text(r))?.[1];

describe('approvals end to end: a gated tool over MCP and REST, operator approval, single use', () => {
  let h: Harness;
  let dir: string;
  let dbPath: string;
  let vm: { node: string; vmid: number };
  let other: { node: string; vmid: number };

  const callMcp = async (args: Record<string, unknown>) =>
    (await (await h.mcp()).callTool({ name: GATED, arguments: args })) as ToolResult;
  const configPath = (v: { node: string; vmid: number }) => `/nodes/${v.node}/vms/${v.vmid}/config`;
  const upstreamReads = (v: { vmid: number }) =>
    h.sim.requestCount({ path: new RegExp(`/qemu/${v.vmid}/config$`) });
  const approve = async (id: string) =>
    (await request(h.url).post(`/approvals/${id}`).set(as(OPERATOR_KEY)).expect(200)).body as {
      approval_token: string;
      request_id: string;
      expires_at: string;
      requested_by: string;
    };
  /** A fresh approval for `v` requested by the `test` key over REST; returns the token. */
  const mint = async (v = vm) => {
    const refused = await request(h.url).get(configPath(v)).set(h.auth).expect(403);
    return (await approve(refused.body.details.request_id)).approval_token;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmp-approvals-e2e-'));
    dbPath = join(dir, 'jobs.sqlite3');
    h = await startHarness({ nodes: 2, guests: 8 }, (sim) => config(sim, dbPath));
    const vms = (await request(h.url).get('/vms').set(h.auth).expect(200)).body.vms as Array<{
      node: string;
      vmid: number;
    }>;
    [vm, other] = vms;
    assert.ok(vm && other, 'the simulator has two VMs');
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the gated tool advertises approval_token; other tools do not', async () => {
    const { tools } = await (await h.mcp()).listTools();
    const props = (name: string) =>
      Object.keys((tools.find((t) => t.name === name)!.inputSchema as any).properties);
    assert.ok(props(GATED).includes('approval_token'));
    assert.ok(!props('get_vms').includes('approval_token'));
    const doc = (await request(h.url).get('/openapi.json').set(h.auth).expect(200)).body;
    assert.ok(
      doc.paths[`/${GATED}`].post.requestBody.content['application/json'].schema.properties.approval_token,
    );
  });

  test('G1: without a token the call is refused with a request id and a digest, and PVE is never changed', async () => {
    const seq = h.sim.requests.at(-1)?.seq ?? 0;
    const r = await callMcp({ node: vm.node, vmid: vm.vmid });
    assert.equal(r.isError, true);
    assert.match(
      text(r),
      /^APPROVAL_REQUIRED: High-risk operation 'get_vm_config' requires an operator's approval/,
    );
    assert.match(text(r), /proxmox-mcp-plus approve [0-9a-f-]{36}/);
    assert.equal(r.structuredContent, undefined);
    // REST: the same caller and call get the same open request (same digest over both transports)
    const rest = await request(h.url).get(configPath(vm)).set(h.auth).expect(403);
    assert.equal(rest.body.code, 'APPROVAL_REQUIRED');
    assert.equal(rest.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
    assert.equal(rest.body.details.request_id, requestIdOf(r));
    assert.match(rest.body.details.digest, /^[0-9a-f]{64}$/);
    assert.equal(rest.body.details.tool, GATED);
    assert.equal(rest.body.vmid, undefined, 'the answer is held back');
    assert.deepEqual(
      h.sim.requests.filter((q) => q.seq > seq && q.method !== 'GET'),
      [],
      'no change sent to PVE',
    );
  });

  test('the operator sees what they approve; only another admin key may approve over HTTP', async () => {
    const id = (await request(h.url).get(configPath(vm)).set(h.auth).expect(403)).body.details.request_id;
    const view = (await request(h.url).get(`/approvals/${id}`).set(as(OPERATOR_KEY)).expect(200)).body;
    assert.equal(view.tool, GATED);
    assert.deepEqual(view.arguments, { node: vm.node, vmid: String(vm.vmid) });
    assert.equal(view.requested_by, 'test');
    assert.equal(view.status, 'pending');
    // a non-admin key, and the requesting key itself, cannot approve
    assert.equal(
      (await request(h.url).post(`/approvals/${id}`).set(as(OTHER_KEY)).expect(403)).body.code,
      'FORBIDDEN',
    );
    const self = await request(h.url).post(`/approvals/${id}`).set(h.auth).expect(403);
    assert.match(self.body.message, /cannot approve its own calls/);
    await request(h.url).post('/approvals/not-a-uuid').set(as(OPERATOR_KEY)).expect(400);
    await request(h.url)
      .post('/approvals/00000000-0000-4000-8000-000000000000')
      .set(as(OPERATOR_KEY))
      .expect(404);
  });

  test('G2/G3: an approved call runs once over MCP; the replay is refused APPROVAL_USED', async () => {
    const id = requestIdOf(await callMcp({ node: vm.node, vmid: vm.vmid }))!;
    const granted = await approve(id);
    assert.match(granted.approval_token, /^pmpa_/);
    assert.equal(granted.requested_by, 'test');
    const before = upstreamReads(vm);
    const ok = await callMcp({ node: vm.node, vmid: vm.vmid, approval_token: granted.approval_token });
    assert.equal(ok.isError, undefined, text(ok));
    assert.equal(ok.structuredContent.vmid, vm.vmid);
    assert.equal(upstreamReads(vm), before + 1);
    const replay = await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': granted.approval_token })
      .expect(403);
    assert.equal(replay.body.details.policy_code, 'OP_POLICY_APPROVAL_USED');
    assert.match(replay.body.message, /already used/);
    assert.notEqual(replay.body.details.request_id, id, 'a fresh request to approve');
    assert.equal(replay.body.vmid, undefined);
    // the replay read the config too (reads run before the approval is settled), but got no answer
    assert.equal(upstreamReads(vm), before + 2);
  });

  test('tokens travel as the X-Approval-Token header on REST and in the body of POST /{tool}', async () => {
    const viaHeader = await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': await mint() })
      .expect(200);
    assert.equal(viaHeader.body.vmid, vm.vmid);
    // an explicit target equal to the default is the same call
    const viaBody = await request(h.url)
      .post(`/${GATED}`)
      .set(h.auth)
      .send({ node: vm.node, vmid: vm.vmid, target: 'default', approval_token: await mint() })
      .expect(200);
    assert.equal(viaBody.body.vmid, vm.vmid);
  });

  test('G6: a token for one VM does not work for another VM, and stays usable for its own call', async () => {
    const token = await mint(vm);
    const r = await callMcp({ node: other.node, vmid: other.vmid, approval_token: token });
    assert.match(text(r), /granted for a different call/);
    const rest = await request(h.url)
      .get(configPath(other))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(403);
    assert.equal(rest.body.details.policy_code, 'OP_POLICY_APPROVAL_MISMATCH');
    await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
  });

  test('G7: a token minted for one key is refused for another key', async () => {
    const token = await mint(vm);
    const r = await request(h.url)
      .get(configPath(vm))
      .set({ ...as(OTHER_KEY), 'x-approval-token': token })
      .expect(403);
    assert.equal(r.body.details.policy_code, 'OP_POLICY_APPROVAL_WRONG_CALLER');
    await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
  });

  test('G8: tampered, truncated or non-string tokens are refused cleanly (no 500)', async () => {
    const token = await mint(vm);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const bad of [flipped, token.slice(0, 20), `${token}=`, 'eyJhbGciOiJub25lIn0.e30.']) {
      const r = await request(h.url)
        .get(configPath(vm))
        .set({ ...h.auth, 'x-approval-token': bad })
        .expect(403);
      assert.equal(r.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
    }
    const typed = await callMcp({ node: vm.node, vmid: vm.vmid, approval_token: 12345 });
    assert.match(text(typed), /^VALIDATION: approval_token must be a string/);
    await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
  });

  test('G9: a token in the query string is refused on every route, before anything runs', async () => {
    const token = await mint(vm);
    const before = upstreamReads(vm);
    const refusals = [
      await request(h.url)
        .get(`${configPath(vm)}?approval_token=${token}`)
        .set(h.auth)
        .expect(400),
      await request(h.url)
        .post(`/${GATED}?approval_token=${token}`)
        .set(h.auth)
        .send({ node: vm.node, vmid: vm.vmid })
        .expect(400),
    ];
    for (const r of refusals) {
      assert.equal(r.body.code, 'VALIDATION');
      assert.match(r.body.message, /approval_token is not accepted in the query string/);
      assert.ok(!JSON.stringify(r.body).includes(token));
    }
    assert.equal(upstreamReads(vm), before);
  });

  test('G4: twelve concurrent calls with one token: exactly one runs', async () => {
    const token = await mint(vm);
    const before = upstreamReads(vm);
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        request(h.url)
          .get(configPath(vm))
          .set({ ...h.auth, 'x-approval-token': token }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    const refused = results.filter((r) => r.status === 403);
    assert.equal(refused.length, 11);
    assert.ok(refused.every((r) => r.body.details.policy_code === 'OP_POLICY_APPROVAL_USED'));
    // every call did its read (concurrent identical reads share one upstream request); one got the answer
    assert.ok(refused.every((r) => r.body.vmid === undefined));
    assert.ok(upstreamReads(vm) > before);
  });

  test('CLI: `approve <id>` on the server database prints the token once; it then works; repeats exit 1', async () => {
    const id = (await request(h.url).get(configPath(vm)).set(h.auth).expect(403)).body.details.request_id;
    const env = cliEnv(h, dbPath);
    const listed = cli(['approve', '--list'], env);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`approve with: proxmox-mcp-plus approve ${id}`));
    const human = cli(['approve', id], env);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`tool: +${GATED}`));
    assert.match(human.stdout, /requested by: test/);
    const token = /^(pmpa_\S+)$/m.exec(human.stdout)?.[1];
    assert.ok(token, human.stdout);
    await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);

    const again = cli(['approve', id], env);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already approved/);
    assert.ok(!again.stdout.includes('pmpa_'));
    assert.equal(cli(['approve', '00000000-0000-4000-8000-000000000000'], env).status, 1);
    const usage = cli(['approve', 'nope'], env);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /not a request id/);
    const memory = cli(['approve', id], { ...env, PROXMOX_JOBS_SQLITE_PATH: ':memory:' });
    assert.equal(memory.status, 2);
    assert.match(memory.stderr, /:memory:/);
    const missing = cli(['approve', id], { ...env, PROXMOX_JOBS_SQLITE_PATH: join(dir, 'nope.sqlite3') });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no database at/);
  });

  test('G12: tokens never appear in any database row (approvals, audit, jobs), only hashes', async () => {
    const id = (await request(h.url).get(configPath(vm)).set(h.auth).expect(403)).body.details.request_id;
    const { approval_token: token } = await approve(id);
    await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
    await request(h.url)
      .get(configPath(vm))
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(403);
    const db = await openDatabase(dataSourceOptions({ sqlitePath: dbPath }));
    try {
      const tables = ['approvals', 'audit_events', 'jobs', 'job_events'];
      for (const table of tables) {
        const rows = JSON.stringify(await db.query(`SELECT * FROM ${table}`));
        assert.ok(!rows.includes(token), `${table} has no clear token`);
        assert.ok(!rows.includes(token.slice(5, 25)), `${table} has no part of the token`);
      }
      const audit = await db.query<Array<{ action: string; outcome: string; details_json: string | null }>>(
        'SELECT action, outcome, details_json FROM audit_events ORDER BY id',
      );
      const about = audit.filter((e) => (e.details_json ?? '').includes(id));
      const seen = about.map((e) => `${e.action}/${e.outcome}`);
      for (const expected of [
        `${GATED}/approval_required`,
        'approval.approve/succeeded',
        'approval.consume/succeeded',
        'approval.consume/denied',
      ]) {
        assert.ok(seen.includes(expected), `audited ${expected}: ${seen.join(', ')}`);
      }
    } finally {
      await db.destroy();
    }
  });

  test('G10: approvals are persisted: a server started later on the same database accepts the token', async () => {
    const token = await mint(vm);
    // a second process on the same database never saw the token in memory, exactly like a restarted one
    const restarted: RunningServer = await startServer(config(h.sim, dbPath));
    try {
      const r = await request(restarted.url)
        .get(configPath(vm))
        .set({ authorization: `Bearer ${API_KEY}`, 'x-approval-token': token })
        .expect(200);
      assert.equal(r.body.vmid, vm.vmid);
      await request(h.url)
        .get(configPath(vm))
        .set({ ...h.auth, 'x-approval-token': token })
        .expect(403);
    } finally {
      await restarted.close();
    }
  });
});

describe('approvals: the weaker modes', () => {
  let h: Harness;
  let dir: string;
  const STATIC = 'static-approval-token-1234';

  const start = async (policy: Partial<CommandPolicyConfig>) => {
    dir = mkdtempSync(join(tmpdir(), 'pmp-approvals-modes-'));
    h = await startHarness({ nodes: 1, guests: 2 }, (sim) => config(sim, join(dir, 'jobs.sqlite3'), policy));
  };
  const stop = async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const vmPath = async () => {
    const [v] = (await request(h.url).get('/vms').set(h.auth).expect(200)).body.vms;
    return `/nodes/${v.node}/vms/${v.vmid}/config`;
  };

  test('static high_risk_approval_token (reference mode): reusable, and a wrong one is refused', async () => {
    await start({ highRiskRequireApprovalToken: true, highRiskApprovalToken: STATIC });
    try {
      const path = await vmPath();
      for (let i = 0; i < 2; i++)
        await request(h.url)
          .get(path)
          .set({ ...h.auth, 'x-approval-token': STATIC })
          .expect(200);
      const wrong = await request(h.url)
        .get(path)
        .set({ ...h.auth, 'x-approval-token': `${STATIC}x` })
        .expect(403);
      assert.equal(wrong.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
      const health = (await request(h.url).get('/health').set(h.auth)).body;
      assert.ok(health.security_warnings.some((w: string) => /static high-risk approval token/.test(w)));
    } finally {
      await stop();
    }
  });

  test('audit_only runs the call and records that it would have needed approval; disabled just runs it', async () => {
    await start({ highRiskMode: 'audit_only' });
    try {
      await request(h.url)
        .get(await vmPath())
        .set(h.auth)
        .expect(200);
      const events = (
        await request(h.url).get('/audit/events').set(h.auth).query({ action: 'approval.audit_only' })
      ).body;
      assert.ok(events.events?.length >= 1, JSON.stringify(events));
      assert.match(events.events[0].reason, /^OP_POLICY_AUDIT_ALLOW/);
      const health = (await request(h.url).get('/health').set(h.auth)).body;
      assert.ok(health.security_warnings.some((w: string) => /high_risk_mode is audit_only/.test(w)));
    } finally {
      await stop();
    }
    await start({ highRiskMode: 'disabled' });
    try {
      await request(h.url)
        .get(await vmPath())
        .set(h.auth)
        .expect(200);
    } finally {
      await stop();
    }
  });
});

function cliEnv(h: Harness, dbPath: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    PVE_API_SCHEMA: SCHEMA_PATH,
    PROXMOX_HOST: h.sim.host,
    PROXMOX_PORT: String(h.sim.port),
    PROXMOX_USER: h.sim.token.user,
    PROXMOX_TOKEN_NAME: h.sim.token.tokenName,
    PROXMOX_TOKEN_VALUE: h.sim.token.secret,
    PROXMOX_FINGERPRINT: h.sim.fingerprint,
    PROXMOX_JOBS_SQLITE_PATH: dbPath,
    LOG_LEVEL: 'error',
  };
}

function cli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['bin/proxmox-mcp-plus.js', ...args], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
}
