import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/** Seeded: VM 100 (pve1), 102 (pve3), 106 (pve1), 110 (pve2) run; VM 104 (pve2) is stopped; CT 101 (pve2). */
describe('simulator: VM power state machine', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const state = async (base: string) => {
    const s = await api.data(`${base}/status/current`);
    return `${s.status}/${s.qmpstatus ?? '-'}`;
  };

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('a locked VM refuses power actions in the task; skiplock is root-only (400 for API tokens)', async () => {
    sim.cluster.setLock(102, 'backup');
    try {
      for (const action of ['stop', 'shutdown', 'reset', 'suspend']) {
        const status = await api.task(await api.post(`/nodes/pve3/qemu/102/status/${action}`));
        assert.equal(status.exitstatus, 'VM is locked (backup)', action);
      }
      assert.equal(await state('/nodes/pve3/qemu/102'), 'running/running');
      const skip = await api.post('/nodes/pve3/qemu/102/status/stop', { skiplock: '1' });
      assert.equal(skip.status, 400);
      assert.deepEqual(skip.json.errors, { skiplock: 'Only root may use this option.' });
      sim.cluster.setLock(101, 'backup');
      const ct = await api.task(await api.post('/nodes/pve2/lxc/101/status/stop'));
      assert.equal(ct.exitstatus, 'CT is locked (backup)');
    } finally {
      sim.cluster.setLock(102, undefined);
      sim.cluster.setLock(101, undefined);
    }
  });

  test('shutdown of a guest that ignores ACPI: timeout error, or SIGTERM with forceStop (WARNINGS: 1)', async () => {
    sim.cluster.setIgnoresShutdown(106, true);
    const timeout = await api.task(await api.post('/nodes/pve1/qemu/106/status/shutdown', { timeout: '10' }));
    assert.equal(timeout.exitstatus, 'VM quit/powerdown failed - got timeout');
    assert.equal(await state('/nodes/pve1/qemu/106'), 'running/running');
    const res = await api.post('/nodes/pve1/qemu/106/status/shutdown', { forceStop: '1' });
    assert.equal((await api.task(res)).exitstatus, 'WARNINGS: 1');
    const log = await api.taskLog(res.json.data);
    assert.deepEqual(log, ['VM still running - terminating now with SIGTERM', 'TASK WARNINGS: 1']);
    assert.equal(await state('/nodes/pve1/qemu/106'), 'stopped/stopped');
    sim.cluster.setIgnoresShutdown(106, false);
  });

  test('suspend to disk: qmsuspend, VM stopped with lock `suspended`; start or resume brings it back', async () => {
    const res = await api.post('/nodes/pve2/qemu/110/status/suspend', { todisk: '1' });
    assert.match(res.json.data, /:qmsuspend:110:/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    assert.equal(await state('/nodes/pve2/qemu/110'), 'stopped/stopped');
    assert.equal((await api.data('/nodes/pve2/qemu/110/config')).lock, 'suspended');
    assert.equal(
      (await api.task(await api.post('/nodes/pve2/qemu/110/status/stop'))).exitstatus,
      'VM is locked (suspended)',
    );
    const resume = await api.post('/nodes/pve2/qemu/110/status/resume');
    assert.match(resume.json.data, /:qmresume:110:/);
    assert.equal((await api.task(resume)).exitstatus, 'OK');
    assert.equal(await state('/nodes/pve2/qemu/110'), 'running/running');
    assert.equal((await api.data('/nodes/pve2/qemu/110/config')).lock, undefined);
    // resuming a VM that runs is a no-op that ends OK
    assert.equal((await api.task(await api.post('/nodes/pve2/qemu/110/status/resume'))).exitstatus, 'OK');
  });

  test('pause/resume, reset and reboot; not-running refusals are synchronous', async () => {
    await api.task(await api.post('/nodes/pve1/qemu/100/status/suspend'));
    assert.equal(await state('/nodes/pve1/qemu/100'), 'running/paused');
    assert.equal(
      (await api.post('/nodes/pve1/qemu/100/status/reboot')).reason,
      'VM is paused - cannot shutdown',
    );
    await api.task(await api.post('/nodes/pve1/qemu/100/status/resume'));
    assert.equal(await state('/nodes/pve1/qemu/100'), 'running/running');
    assert.match((await api.post('/nodes/pve1/qemu/100/status/reset')).json.data, /:qmreset:100:/);
    assert.equal((await api.post('/nodes/pve2/qemu/104/status/reset')).reason, 'VM 104 not running');
    assert.equal((await api.post('/nodes/pve2/qemu/104/status/suspend')).reason, 'VM 104 not running');
    assert.equal((await api.post('/nodes/pve2/qemu/104/status/resume')).reason, 'VM 104 not running');
    // stopping a stopped VM is fine
    assert.equal((await api.task(await api.post('/nodes/pve2/qemu/104/status/stop'))).exitstatus, 'OK');
    assert.deepEqual(
      ((await api.data('/nodes/pve2/qemu/104/status')) as Array<{ subdir: string }>).map((s) => s.subdir),
      ['current', 'start', 'stop', 'reset', 'shutdown', 'suspend', 'reboot'],
    );
  });

  test('start applies pending changes; a NIC on a missing bridge fails the start', async () => {
    const base = '/nodes/pve3/qemu/102';
    await api.task(await api.post(`${base}/config`, { memory: '3072' }));
    assert.equal(
      (await api.data(`${base}/config?current=1`)).memory !== '3072',
      true,
      'pending while running',
    );
    await api.task(await api.post(`${base}/status/stop`));
    assert.equal((await api.task(await api.post(`${base}/status/start`))).exitstatus, 'OK');
    assert.equal((await api.data(`${base}/config?current=1`)).memory, '3072');

    assert.equal((await api.put('/nodes/pve2/qemu/104/config', { net1: 'virtio,bridge=vmbr9' })).status, 200);
    const start = await api.task(await api.post('/nodes/pve2/qemu/104/status/start'));
    assert.equal(start.exitstatus, "bridge 'vmbr9' does not exist");
    assert.equal(await state('/nodes/pve2/qemu/104'), 'stopped/stopped');
  });
});
