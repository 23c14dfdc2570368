import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedWith500, simulatorApiSuite, type Json, type SimClient } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * /cluster/ha as PVE 9 answers it (pve-ha-manager API2/HA/Resources.pm, Status.pm): resource changes are
 * synchronous, refusals are 500s, and the CRM applies the requested state to the guest. Seeded: 3 nodes, VM 100
 * running, CT 101, VM 104 stopped.
 */
describe('simulator: HA resources and status', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  const refused = refusedWith500;
  const hastate = async (vmid: number) =>
    (await api.data('/cluster/resources?type=vm')).find((r: Json) => r.vmid === vmid)?.hastate;

  test('without HA resources: the status has only the quorum, manager_status is empty', async () => {
    assert.deepEqual(await api.data('/cluster/ha/status/current'), [
      { id: 'quorum', type: 'quorum', node: 'pve1', status: 'OK', quorate: 1 },
    ]);
    assert.deepEqual((await api.data('/cluster/ha/status/manager_status')).manager_status, {});
    assert.deepEqual(await api.data('/cluster/ha/resources'), []);
  });

  test('POST adds a resource (a bare vmid names the guest), the CRM starts it; /cluster/resources shows hastate', async () => {
    assert.equal(sim.cluster.guest(104)!.status, 'stopped');
    assert.equal((await api.post('/cluster/ha/resources', { sid: '104', max_restart: '2' })).status, 200);
    const [row] = await api.data('/cluster/ha/resources');
    assert.equal(row.sid, 'vm:104');
    assert.equal(row.type, 'vm');
    assert.equal(row.state, 'started');
    assert.equal(row.max_restart, 2);
    assert.match(row.digest, /^[0-9a-f]{40}$/);
    assert.equal(sim.cluster.guest(104)!.status, 'running');
    assert.equal(await hastate(104), 'started');
    assert.equal(await hastate(100), undefined);
  });

  test('POST refusals: a duplicate, an unknown guest, a type that does not match the guest', async () => {
    await refused(
      api.post('/cluster/ha/resources', { sid: 'vm:104' }),
      /^resource ID 'vm:104' already defined$/,
    );
    await refused(api.post('/cluster/ha/resources', { sid: 'vm:9999' }), /does not exist in cluster/);
    await refused(api.post('/cluster/ha/resources', { sid: 'vm:101' }), /^resource 'vm:101' does not exist/);
    await refused(api.post('/cluster/ha/resources', { sid: 'ct:101', type: 'vm' }), /^types does not match$/);
    assert.equal(sim.cluster.ha.resources.size, 1);
  });

  test('PUT changes the state (the CRM stops the guest) and checks the digest; delete resets an option', async () => {
    const { digest } = await api.data('/cluster/ha/resources/vm:104');
    await refused(
      api.put('/cluster/ha/resources/vm:104', { state: 'stopped', digest: '0'.repeat(40) }),
      /^detected modified configuration/,
    );
    assert.equal(
      (await api.put('/cluster/ha/resources/vm:104', { state: 'stopped', digest, delete: 'max_restart' }))
        .status,
      200,
    );
    const row = await api.data('/cluster/ha/resources/vm:104');
    assert.equal(row.state, 'stopped');
    assert.equal(row.max_restart, 1);
    assert.notEqual(row.digest, digest);
    assert.equal(sim.cluster.guest(104)!.status, 'stopped');
    assert.equal(await hastate(104), 'stopped');
    await refused(
      api.put('/cluster/ha/resources/vm:100', { state: 'stopped' }),
      /^no such resource 'vm:100'$/,
    );
  });

  test('status: master, one LRM per node, the services; an offline node is fenced', async () => {
    const rows = await api.data('/cluster/ha/status/current');
    assert.deepEqual(
      rows.map((r: Json) => `${r.id} ${r.status}`),
      [
        'quorum OK',
        'master active',
        'lrm:pve1 idle',
        'lrm:pve2 active',
        'lrm:pve3 idle',
        'service:vm:104 stopped',
      ],
    );
    sim.cluster.setNodeOnline('pve2', false);
    try {
      const manager = await api.data('/cluster/ha/status/manager_status');
      assert.deepEqual(manager.manager_status.node_status, { pve1: 'online', pve2: 'fence', pve3: 'online' });
      assert.equal(manager.manager_status.service_status['vm:104'].state, 'fence');
    } finally {
      sim.cluster.setNodeOnline('pve2', true);
    }
  });

  test('GET /cluster/ha/rules: `resource` and `type` narrow the list', async () => {
    sim.cluster.ha.rules.set('keep', {
      rule: 'keep',
      type: 'node-affinity',
      resources: ['vm:104'],
      nodes: ['pve2:2', 'pve3'],
      strict: false,
    });
    sim.cluster.ha.rules.set('apart', {
      rule: 'apart',
      type: 'resource-affinity',
      resources: ['vm:104', 'vm:100'],
      affinity: 'negative',
    });
    const rules = await api.data('/cluster/ha/rules?resource=vm:104');
    assert.deepEqual(
      rules.map((r: Json) => [r.rule, r.type, r.resources, r.nodes ?? r.affinity]),
      [
        ['keep', 'node-affinity', 'vm:104', 'pve2:2,pve3'],
        ['apart', 'resource-affinity', 'vm:104,vm:100', 'negative'],
      ],
    );
    assert.deepEqual(
      (await api.data('/cluster/ha/rules?type=resource-affinity')).map((r: Json) => r.rule),
      ['apart'],
    );
    assert.deepEqual(await api.data('/cluster/ha/rules?resource=ct:101'), []);
  });

  test('DELETE removes the resource and the hastate, and purges it from rules; an unmanaged guest is refused', async () => {
    assert.equal((await api.del('/cluster/ha/resources/vm:104')).status, 200);
    assert.equal(await hastate(104), undefined);
    // `keep` named only vm:104 and goes; `apart` keeps vm:100
    assert.deepEqual([...sim.cluster.ha.rules.keys()], ['apart']);
    assert.deepEqual(sim.cluster.ha.rules.get('apart')!.resources, ['vm:100']);
    await refused(
      api.del('/cluster/ha/resources/vm:104'),
      /^cannot delete service 'vm:104', not HA managed!$/,
    );
  });
});
