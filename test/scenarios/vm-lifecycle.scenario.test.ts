import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { E2E_TAG, openScenarioTarget, storySteps, type Job, type ScenarioTarget } from './harness.js';

// Story: an operator builds a throw-away VM, boots it, takes a snapshot before a risky change, makes the change,
// rolls it back (an approved destructive step) and finally deletes the VM while it runs (force, approved).
// Each step is one tool call; the steps depend on each other, so they run in order and stop at the first failure.
describe('scenario: a VM from creation to deletion, with a snapshot and a rollback', () => {
  let t: ScenarioTarget;
  let vmid: number;
  const snapname = 'e2e-before-change';
  const configPath = () => `/nodes/${t.node}/vms/${vmid}/config`;
  const step = storySteps();

  before(async () => (t = await openScenarioTarget()));
  after(() => t?.close());

  step('create_vm: a small tagged VM, followed to completion through its job', async () => {
    vmid = await t.ops.createTestVm(t, 'vm');
    const config = await t.ops.tool('get_vm_config', { node: t.node, vmid });
    assert.ok(config.config.name.startsWith(`${E2E_TAG}-vm-`), config.config.name);
    assert.match(String(config.config.tags), new RegExp(`(^|;)${E2E_TAG}($|;)`));
    assert.equal(Number(config.config.memory), 512);
    const listed = await t.ops.vm(t.node, vmid);
    assert.equal(listed?.status, 'stopped', 'a new VM is stopped');
  });

  step('start_vm with wait: the job completes and the VM runs', async () => {
    const job = await t.ops.tool<Job>('start_vm', {
      node: t.node,
      vmid,
      wait: true,
      wait_timeout_seconds: 300,
    });
    assert.equal(job.status, 'completed', job.last_error ?? '');
    assert.match(job.task_id ?? '', new RegExp(`:qmstart:${vmid}:`));
    assert.equal((await t.ops.vm(t.node, vmid))?.status, 'running');
  });

  step('create_snapshot of the running VM, listed afterwards', async () => {
    const job = await t.ops.tool<Job>('create_snapshot', {
      node: t.node,
      vmid,
      snapname,
      description: 'before the risky change (scenario suite)',
      wait: true,
      wait_timeout_seconds: 300,
    });
    await t.ops.finish(job);
    const list = await t.ops.tool('list_snapshots', { node: t.node, vmid });
    assert.deepEqual(
      list.snapshots.map((s: { name: string }) => s.name),
      [snapname],
    );
    assert.equal(list.current_parent, snapname);
  });

  step(
    'a change after the snapshot (REST, guarded by the digest), then rollback_snapshot undoes it',
    async () => {
      const before = await t.ops.rest('GET', configPath());
      assert.equal(before.status, 200);
      const originalName = before.body.config.name as string;
      // a rename applies at once, also while the VM runs (PVE's fast-plug keys), so the change is real before
      // the rollback; the description is a note PVE deliberately keeps across rollbacks
      const renamed = await t.ops.rest('PUT', configPath(), {
        name: `${originalName}-changed`,
        description: 'renamed after the snapshot',
        digest: before.body.digest,
      });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.deepEqual([...renamed.body.updated].sort(), ['description', 'name']);
      // the digest guards against lost updates: the old one no longer matches
      const stale = await t.ops.rest('PUT', configPath(), {
        name: 'lost-update',
        digest: before.body.digest,
      });
      assert.equal(stale.status, 409, JSON.stringify(stale.body));
      assert.equal((await t.ops.rest('GET', configPath())).body.config.name, `${originalName}-changed`);

      // destructive: the agent is refused, the operator reads the request and approves it, the agent repeats
      const job = await t.ops.approvedTool<Job>('rollback_snapshot', {
        node: t.node,
        vmid,
        snapname,
        start: true,
        wait: true,
        wait_timeout_seconds: 300,
      });
      await t.ops.finish(job);
      const after = await t.ops.tool('get_vm_config', { node: t.node, vmid });
      assert.equal(after.config.name, originalName, 'the rename is undone');
      assert.equal(after.config.description, 'renamed after the snapshot', 'the note survives, as on PVE');
      assert.equal((await t.ops.vm(t.node, vmid))?.status, 'running', 'start: true booted it again');
    },
  );

  step('delete_vm with force on the running VM (approved over REST): it is stopped, then gone', async () => {
    const res = await t.ops.approvedRest('DELETE', `/nodes/${t.node}/vms/${vmid}?force=true`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await t.ops.finish(res.body as Job);
    assert.equal(await t.ops.vm(t.node, vmid), undefined, 'the VM is no longer listed');
    const gone = await t.ops.rest('GET', configPath());
    assert.equal(gone.status, 404, JSON.stringify(gone.body));
  });

  step('every job of the story is in list_jobs, completed', async () => {
    const jobs = await t.ops.tool('list_jobs', { limit: 50 });
    const tools = jobs.jobs.map((j: Job) => j.tool_name).sort();
    // delete_vm with force on a running VM records the hard stop it made first as a job of its own
    assert.deepEqual(tools, [
      'create_snapshot',
      'create_vm',
      'delete_vm',
      'rollback_snapshot',
      'start_vm',
      'stop_vm',
    ]);
    for (const j of jobs.jobs as Job[])
      assert.equal(j.status, 'completed', `${j.tool_name}: ${j.last_error}`);
  });
});
