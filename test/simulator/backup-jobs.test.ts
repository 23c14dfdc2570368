import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedWith500, simulatorApiSuite, type Json, type SimClient } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * /cluster/backup and /cluster/backup-info as PVE 9 answers them (pve-manager API2/Backup.pm, BackupInfo.pm): jobs
 * are jobs.cfg sections with PVE-style IDs, changes are synchronous, parameter checks are 400s and plain `die`s
 * 500s. Seeded: 3 nodes, 6 guests (100-105), storages local (backup), local-lvm (images), nas (backup, shared).
 */
describe('simulator: scheduled backup jobs', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({ nodes: 3, guests: 6 }, (started) => ({ sim, api } = started));

  test('POST makes a job with a backup-<hex> ID (or the given one); GET lists it with next-run and decoded retention', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(
      (
        await api.post('/cluster/backup', {
          schedule: 'daily',
          storage: 'nas',
          vmid: '100,101',
          'prune-backups': 'keep-last=3',
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await api.post('/cluster/backup', {
          id: 'nightly',
          schedule: 'sun 01:00',
          storage: 'local',
          all: '1',
          exclude: '105',
        })
      ).status,
      200,
    );
    const jobs = await api.data('/cluster/backup');
    assert.equal(jobs.length, 2);
    const generated = jobs.find((j: Json) => j.id !== 'nightly');
    assert.match(generated.id, /^backup-[0-9a-f]{8}-[0-9a-f]{4}$/);
    assert.equal(generated.type, 'vzdump');
    assert.equal(generated.enabled, 1);
    assert.equal(generated.vmid, '100,101');
    assert.deepEqual(generated['prune-backups'], { 'keep-last': 3 });
    const midnight = Math.ceil((now + 1) / 86400) * 86400;
    assert.equal(generated['next-run'], midnight);
    const nightly = await api.data('/cluster/backup/nightly');
    assert.equal(nightly.all, 1);
    assert.equal(nightly.exclude, '105');
    assert.equal(new Date(nightly['next-run'] * 1000).getUTCDay(), 0);
  });

  test('refusals: an unknown storage or pool, a duplicate ID, a missing or double selection', async () => {
    await refusedWith500(
      api.post('/cluster/backup', { schedule: 'daily', storage: 'nope', vmid: '100' }),
      /^storage 'nope' does not exist$/,
    );
    await refusedWith500(
      api.post('/cluster/backup', { schedule: 'daily', storage: 'nas', pool: 'nope' }),
      /^pool 'nope' does not exist$/,
    );
    await refusedWith500(
      api.post('/cluster/backup', { id: 'nightly', schedule: 'daily', storage: 'nas', all: '1' }),
      /^Job 'nightly' already exists$/,
    );
    const none = await api.post('/cluster/backup', { schedule: 'daily', storage: 'nas' });
    assert.equal(none.status, 400);
    assert.match(none.json.errors.vmid, /property is missing/);
    const both = await api.post('/cluster/backup', {
      schedule: 'daily',
      storage: 'nas',
      all: '1',
      vmid: '100',
    });
    assert.match(both.json.errors.all, /conflicts with option 'vmid'/);
    assert.equal(sim.cluster.backupJobs.jobs.size, 2);
  });

  test('PUT: a new selection replaces the old one, delete removes options; unknown jobs are 500s; DELETE', async () => {
    assert.equal((await api.put('/cluster/backup/nightly', { vmid: '102', delete: 'exclude' })).status, 200);
    const job = await api.data('/cluster/backup/nightly');
    assert.equal(job.vmid, '102');
    assert.equal(job.all, undefined);
    assert.equal(job.exclude, undefined);
    await refusedWith500(api.put('/cluster/backup/nope', { mode: 'stop' }), /^job 'nope' does not exist$/);
    await refusedWith500(
      api.call('/cluster/backup/nope', { method: 'DELETE' }),
      /^job 'nope' does not exist$/,
    );
    assert.equal((await api.call('/cluster/backup/nightly', { method: 'DELETE' })).status, 200);
    assert.equal(sim.cluster.backupJobs.jobs.has('nightly'), false);
  });

  test('not-backed-up: every guest no job selects, with type and name', async () => {
    const rows = await api.data('/cluster/backup-info/not-backed-up');
    assert.deepEqual(
      rows.map((r: Json) => r.vmid),
      [102, 103, 104, 105],
    );
    assert.deepEqual(Object.keys(rows[0]).sort(), ['name', 'type', 'vmid']);
    assert.equal(rows[0].type, 'qemu');
    assert.equal(rows[1].type, 'lxc');
  });
});

describe('simulator: a schedule PVE cannot parse', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({ nodes: 1, guests: 1 }, (started) => ({ sim, api } = started), {
    schemaViolationsExpected: true,
  });

  test("is a 400 from the schema's pve-calendar-event format, with PVE's reason; nothing is stored", async () => {
    const bad = await api.post('/cluster/backup', { schedule: 'dayly', storage: 'local', vmid: '100' });
    assert.equal(bad.status, 400);
    assert.equal(
      bad.json.errors.schedule,
      "invalid format - invalid calendar event 'dayly' - unable to parse calendar event at 'dayly' - weekday\n",
    );
    assert.equal(sim.cluster.backupJobs.jobs.size, 0);
    assert.equal(sim.schemaViolations().length, 1);
  });
});
