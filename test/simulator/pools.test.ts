import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedWith500, simulatorApiSuite, type Json, type SimClient } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * POST/PUT/DELETE /pools as PVE 9 answers them (manager API2/Pool.pm): synchronous, refusals as 500s with the
 * user.cfg lock's prefix, every check before any change. Seeded: pools prod and lab; storages local, local-lvm, nas.
 */
describe('simulator: resource pools', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  const refused = refusedWith500;

  test('POST /pools creates a pool with its comment; an existing one and a nested one without parent are refused', async () => {
    assert.equal((await api.post('/pools', { poolid: 'team', comment: 'Team' })).status, 200);
    assert.deepEqual(
      (await api.data('/pools')).find((p: Json) => p.poolid === 'team'),
      {
        poolid: 'team',
        comment: 'Team',
      },
    );
    await refused(api.post('/pools', { poolid: 'team' }), /^create pool failed: pool 'team' already exists$/);
    await refused(api.post('/pools', { poolid: 'x/y' }), /^create pool failed: parent 'x' does not exist$/);
    assert.equal((await api.post('/pools', { poolid: 'team/web' })).status, 200);
  });

  test('PUT /pools adds and removes guests and storages; GET ?poolid lists both, `type` narrows', async () => {
    assert.equal((await api.put('/pools', { poolid: 'team', vms: '100,101', storage: 'nas' })).status, 200);
    const [team] = await api.data('/pools?poolid=team');
    assert.deepEqual(
      team.members.map((m: Json) => [m.type, m.vmid ?? m.storage]),
      [
        [sim.cluster.guest(100)!.type, 100],
        [sim.cluster.guest(101)!.type, 101],
        ['storage', 'nas'],
      ],
    );
    const [storages] = await api.data('/pools?poolid=team&type=storage');
    assert.deepEqual(
      storages.members.map((m: Json) => m.id),
      ['storage/pve1/nas'],
    );
    assert.equal((await api.put('/pools', { poolid: 'team', delete: '1', vms: '101' })).status, 200);
    assert.equal(sim.cluster.guest(101)!.pool, undefined);
  });

  test('PUT /pools refuses, changing nothing: unknown guest or storage, member twice, another pool, non-member', async () => {
    sim.cluster.guest(104)!.pool = 'lab';
    const fail = 'update pools failed: ';
    await refused(
      api.put('/pools', { poolid: 'nope', comment: 'x' }),
      new RegExp(`^${fail}pool 'nope' does not exist$`),
    );
    await refused(api.put('/pools', { poolid: 'team', vms: '102,999' }), /VM 999 does not exist$/);
    await refused(api.put('/pools', { poolid: 'team', vms: '100' }), /VM 100 is already a pool member$/);
    await refused(
      api.put('/pools', { poolid: 'team', vms: '104' }),
      /VM 104 belongs already to pool 'lab' and 'allow-move' is not set$/,
    );
    await refused(api.put('/pools', { poolid: 'team', storage: 'tape' }), /Storage 'tape' does not exist$/);
    await refused(
      api.put('/pools', { poolid: 'team', storage: 'nas' }),
      /Storage 'nas' is already a pool member$/,
    );
    await refused(
      api.put('/pools', { poolid: 'team', delete: '1', vms: '105' }),
      /VM 105 is not a pool member$/,
    );
    await refused(
      api.put('/pools', { poolid: 'team', delete: '1', storage: 'local' }),
      /Storage 'local' is not a pool member$/,
    );
    assert.equal(sim.cluster.guest(102)!.pool, undefined, 'the refused call added none of its guests');
    assert.equal((await api.put('/pools', { poolid: 'team', vms: '104', 'allow-move': '1' })).status, 200);
    assert.equal(sim.cluster.guest(104)!.pool, 'team');
  });

  test('DELETE /pools refuses a pool with a sub-pool, a guest or a storage, then deletes it empty', async () => {
    const notEmpty = (what: string) =>
      new RegExp(`^delete pool failed: pool 'team' is not empty \\(contains ${what}\\)$`);
    await refused(api.del('/pools', { poolid: 'team' }), notEmpty("pool 'team/web'"));
    assert.equal((await api.del('/pools', { poolid: 'team/web' })).status, 200);
    await refused(api.del('/pools', { poolid: 'team' }), notEmpty('VM 100'));
    assert.equal((await api.put('/pools', { poolid: 'team', delete: '1', vms: '100,104' })).status, 200);
    await refused(api.del('/pools', { poolid: 'team' }), notEmpty("storage 'nas'"));
    assert.equal((await api.put('/pools', { poolid: 'team', delete: '1', storage: 'nas' })).status, 200);
    assert.equal((await api.del('/pools', { poolid: 'team' })).status, 200);
    assert.ok(!sim.cluster.pools.has('team'));
    await refused(api.del('/pools', { poolid: 'team' }), /^delete pool failed: pool 'team' does not exist$/);
  });
});
