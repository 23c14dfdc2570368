import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedWith500, simulatorApiSuite, type Json, type SimClient } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * HA migrate/relocate and the PVE 9 HA rules as pve-ha-manager answers them: the move is queued without a task
 * (the LRM's own task does it, the service is in state migrate/relocate meanwhile); rule refusals are 500s for
 * unknown ids, unmanaged resources and unknown nodes, 400s for rules that cannot hold.
 */
describe('simulator: HA migrate, relocate and rules', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({ nodes: 3 }, (started) => ({ sim, api } = started));

  const refused = refusedWith500;
  const service = async (sid: string) =>
    (await api.data('/cluster/ha/status/current')).find((e: Json) => e.sid === sid);
  const other = (vmid: number) => ['pve1', 'pve2', 'pve3'].find((n) => n !== sim.cluster.guest(vmid)!.node)!;

  test('migrate: answered at once without a task; state migrate while the LRM task runs, then started on the target', async () => {
    await api.post('/cluster/ha/resources', { sid: '100' });
    await api.post('/cluster/ha/resources', { sid: '101' });
    const from = sim.cluster.guest(100)!.node;
    const to = other(100);
    sim.tasks.script({ match: { type: 'qmigrate', id: '100' }, durationMs: 300 });
    const r = await api.post('/cluster/ha/resources/vm:100/migrate', { node: to });
    assert.equal(r.status, 200, r.reason);
    assert.deepEqual(r.json.data, { sid: 'vm:100', 'requested-node': to });
    assert.equal((await service('vm:100')).state, 'migrate');
    const [task] = sim.tasks.list(from).filter((t) => t.type === 'qmigrate' && t.id === '100');
    assert.equal(task.user, 'root@pam');
    await sim.tasks.whenDone(task.upid);
    assert.equal(task.exitstatus, 'OK');
    const settled = await service('vm:100');
    assert.equal(`${settled.node} ${settled.state}`, `${to} started`);
    assert.equal(sim.cluster.guest(100)!.status, 'running');
  });

  test('migrate refusals: unknown node, unmanaged resource; a blocking negative rule is answered, nothing moves', async () => {
    await refused(
      api.post('/cluster/ha/resources/vm:100/migrate', { node: 'pve9' }),
      /^no such cluster node 'pve9'/,
    );
    await refused(api.post('/cluster/ha/resources/vm:104/migrate', { node: 'pve1' }), /not managed by ha/);
    const to =
      sim.cluster.guest(101)!.node === sim.cluster.guest(100)!.node
        ? other(100)
        : sim.cluster.guest(101)!.node;
    sim.cluster.moveGuest(sim.cluster.guest(101)!, to);
    assert.equal(
      (
        await api.post('/cluster/ha/rules', {
          rule: 'apart',
          type: 'resource-affinity',
          affinity: 'negative',
          resources: 'vm:100,ct:101',
        })
      ).status,
      200,
    );
    const from = sim.cluster.guest(100)!.node;
    const r = await api.post('/cluster/ha/resources/vm:100/relocate', { node: to });
    assert.deepEqual(r.json.data['blocking-resources'], [{ sid: 'ct:101', cause: 'resource-affinity' }]);
    assert.equal(sim.cluster.guest(100)!.node, from);
    assert.equal(sim.cluster.ha.motions.size, 0);
  });

  test('rules: read one, refusals for an id in use, unmanaged resources, unknown nodes, infeasible rules, the wrong type', async () => {
    const rule = await api.data('/cluster/ha/rules/apart');
    assert.equal(rule.type, 'resource-affinity');
    assert.equal(rule.resources, 'vm:100,ct:101');
    assert.match(rule.digest, /^[0-9a-f]{40}$/);
    await refused(api.get('/cluster/ha/rules/nope'), /^HA rule 'nope' does not exist/);
    await refused(
      api.post('/cluster/ha/rules', {
        rule: 'apart',
        type: 'resource-affinity',
        affinity: 'negative',
        resources: 'vm:100,ct:101',
      }),
      /^HA rule 'apart' already defined/,
    );
    await refused(
      api.post('/cluster/ha/rules', {
        rule: 'n1',
        type: 'node-affinity',
        nodes: 'pve1',
        resources: 'vm:104',
      }),
      /^cannot use unmanaged resource\(s\) vm:104\./,
    );
    await refused(
      api.post('/cluster/ha/rules', {
        rule: 'n1',
        type: 'node-affinity',
        nodes: 'pve1:2,pve9',
        resources: 'vm:100',
      }),
      /^cannot use non-existent node\(s\) pve9\./,
    );
    const one = await api.post('/cluster/ha/rules', {
      rule: 'r1',
      type: 'resource-affinity',
      affinity: 'positive',
      resources: 'vm:100',
    });
    assert.equal(one.status, 400);
    assert.match(one.json.errors.resources, /at least two resources/);
    const wrong = await api.post('/cluster/ha/rules', {
      rule: 'r1',
      type: 'resource-affinity',
      nodes: 'pve1',
      affinity: 'positive',
      resources: 'vm:100,ct:101',
    });
    assert.equal(wrong.status, 400);
    assert.ok(wrong.json.errors.nodes);
    assert.equal(
      (
        await api.post('/cluster/ha/rules', {
          rule: 'n1',
          type: 'node-affinity',
          nodes: 'pve1',
          resources: 'vm:100',
        })
      ).status,
      200,
    );
    const twice = await api.post('/cluster/ha/rules', {
      rule: 'n2',
      type: 'node-affinity',
      nodes: 'pve2',
      resources: 'vm:100',
    });
    assert.equal(twice.status, 400);
    assert.match(twice.json.errors.resources, /already used in another node affinity rule/);
    const mismatch = await api.put('/cluster/ha/rules/n1', { type: 'resource-affinity', comment: 'x' });
    assert.equal(mismatch.status, 400);
    assert.equal(
      (await api.put('/cluster/ha/rules/n1', { type: 'node-affinity', nodes: 'pve2:3', strict: '1' })).status,
      200,
    );
    assert.deepEqual(sim.cluster.ha.rules.get('n1')!.nodes, ['pve2:3']);
    assert.equal((await api.del('/cluster/ha/rules/n1')).status, 200);
    await refused(api.del('/cluster/ha/rules/n1'), /^HA rule 'n1' does not exist/);
    assert.deepEqual([...sim.cluster.ha.rules.keys()], ['apart']);
  });
});
