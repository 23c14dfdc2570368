import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { FakeNodes, INJECTION_PAYLOADS } from '../helpers/ssh-server.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';

const OPERATE_KEY = 'operate-key-0123456789abcdef';

/**
 * execute_node_command under attack (security table E1 for the node itself): with deliberately loose patterns
 * (`echo .*`), no payload may reach the node's shell as syntax: shell syntax is refused before anything is sent,
 * everything else reaches the program as literal words. Refusals are audited without the command text; only
 * admin keys reach the tool, and reconcile_job too. high_risk_mode is audit_only here so every call goes through.
 */
describe('execute_node_command: injection, audit and scope', () => {
  let h: Harness;
  let fake: FakeNodes;

  before(async () => {
    fake = await FakeNodes.start({ nodes: ['pve1', 'pve2'], containerStatus: () => undefined });
    const ssh = fake.sshConfig({ useSudo: false });
    h = await startHarness({ nodes: 2, guests: 4, taskSeconds: 0 }, (sim) => {
      const config = testConfig(
        [simulatorTargetConfig(sim, { nodeCommands: { allowPatterns: ['echo .*', 'ls( \\S+)*'] } })],
        { ssh },
      );
      config.http.apiKeys.push({ name: 'operate', secret: OPERATE_KEY, scope: 'operate' });
      return config;
    });
  });
  after(async () => {
    await h?.close();
    await fake?.close();
  });

  const run = (command: string) => request(h.url).post('/nodes/pve1/commands').set(h.auth).send({ command });

  test('no injection payload reaches the node as shell syntax: refused, or passed as literal words', async () => {
    for (const payload of INJECTION_PAYLOADS) {
      const records = fake.records.length;
      const res = await run(`echo ${payload}`);
      const words = ['echo', ...payload.split(/[ \t]+/).filter((w) => w !== '')];
      if (res.status === 200) {
        const record = fake.lastRecord()!;
        assert.equal(fake.records.length, records + 1);
        assert.equal(
          record.injection,
          undefined,
          `payload ${JSON.stringify(payload)}: ${record.commandLine}`,
        );
        assert.deepEqual(record.nodeArgv, words, JSON.stringify(payload));
        assert.equal(res.body.stdout, `${words.slice(1).join(' ')}\n`);
      } else {
        assert.ok([400, 403].includes(res.status), `${JSON.stringify(payload)}: ${JSON.stringify(res.body)}`);
        assert.ok(['VALIDATION', 'POLICY_DENIED'].includes(res.body.code), JSON.stringify(res.body));
        assert.equal(fake.records.length, records, `payload ${JSON.stringify(payload)} reached no node`);
        // the message names the shell character it found, never the command (single characters aside)
        if (payload.trim().length > 2) {
          assert.ok(!JSON.stringify(res.body).includes(payload.trim()), JSON.stringify(res.body));
        }
      }
    }
    assert.ok(
      fake.records.every((r) => r.injection === undefined),
      'no command line carried an unquoted metacharacter',
    );
    // the literal ones did run: `*`, `~root` and `#comment` reached echo as they are
    for (const literal of ['*', '~root', '#comment']) {
      assert.ok(
        fake.records.some((r) => r.nodeArgv?.[1] === literal),
        literal,
      );
    }
  });

  test('a refused command is audited as denied, with the patterns and without the command text', async () => {
    const res = await run('cat /etc/shadow');
    assert.equal(res.status, 403);
    assert.equal(res.body.details.policy_code, 'NODE_COMMAND_NOT_ALLOWED');
    const audit = h.server.app.get(AuditService);
    const { events } = await audit.list({ action: 'execute_node_command', outcome: 'denied' });
    const denied = events.find((e) => /node_command_patterns/.test(e.reason ?? ''));
    assert.ok(denied, JSON.stringify(events));
    assert.equal(denied.actor, 'test');
    assert.ok(!JSON.stringify(events).includes('/etc/shadow'), 'the command text is not in the audit log');
  });

  test('an operate key can call neither execute_node_command nor reconcile_job (admin scope)', async () => {
    const records = fake.records.length;
    const node = await request(h.url)
      .post('/nodes/pve1/commands')
      .set({ authorization: `Bearer ${OPERATE_KEY}` })
      .send({ command: 'echo hi' });
    assert.equal(node.status, 403);
    assert.equal(node.body.code, 'FORBIDDEN');
    assert.equal(fake.records.length, records);
    const reconcile = await request(h.url)
      .post('/jobs/00000000-0000-4000-8000-000000000000/reconcile')
      .set({ authorization: `Bearer ${OPERATE_KEY}` })
      .send({});
    assert.equal(reconcile.status, 403);
    assert.equal(reconcile.body.code, 'FORBIDDEN');
    assert.match(reconcile.body.message, /admin/);
  });
});
