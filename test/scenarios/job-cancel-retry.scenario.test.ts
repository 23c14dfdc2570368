import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openScenarioTarget, storySteps, type Job, type ScenarioTarget } from './harness.js';

// Story: an operator asks a VM to shut down, sees the job hang (the test VM has no OS, so nothing answers the
// ACPI request and the task would wait out its whole timeout), cancels it, retries it once, cancels that too,
// and reads the job's history. The VM keeps running throughout; at the end it is deleted.
describe('scenario: cancel a hanging job, retry it, cancel again', () => {
  let t: ScenarioTarget;
  let vmid: number;
  let shutdown: Job;
  const step = storySteps();

  before(async () => (t = await openScenarioTarget()));
  after(() => t?.close());

  step('a running test VM without an operating system', async () => {
    vmid = await t.ops.createTestVm(t, 'jobs');
    await t.ops.finish(await t.ops.tool<Job>('start_vm', { node: t.node, vmid }));
    assert.equal((await t.ops.vm(t.node, vmid))?.status, 'running');
    t.guestWithoutOs(vmid, 2);
  });

  step('shutdown_vm is accepted and its job keeps running (nothing answers ACPI)', async () => {
    shutdown = await t.ops.tool<Job>('shutdown_vm', { node: t.node, vmid, timeout: 600 });
    assert.equal(shutdown.status, 'running');
    assert.match(shutdown.task_id ?? '', new RegExp(`:qmshutdown:${vmid}:`));
    const running = await t.ops.tool('list_jobs', { status: 'running', tool_name: 'shutdown_vm' });
    assert.ok(
      running.jobs.some((j: Job) => j.job_id === shutdown.job_id),
      'list_jobs shows it running',
    );
  });

  step('cancel_job stops the Proxmox task: the job ends cancelled and the VM still runs', async () => {
    const cancelled = await t.ops.tool<Job>('cancel_job', { job_id: shutdown.job_id });
    const final = await t.ops.finish(cancelled, 'cancelled');
    assert.equal(final.task_id, shutdown.task_id);
    assert.equal((await t.ops.vm(t.node, vmid))?.status, 'running', 'the cancelled shutdown did nothing');
  });

  step('retry_job (REST) sends the same request again as a new attempt with a new task', async () => {
    const res = await t.ops.rest('POST', `/jobs/${shutdown.job_id}/retry`, {});
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const retried = res.body as Job;
    assert.equal(retried.job_id, shutdown.job_id, 'the same job, a new attempt');
    assert.equal(retried.status, 'running');
    assert.notEqual(retried.task_id, shutdown.task_id);
    assert.deepEqual(retried.previous_upids, [shutdown.task_id]);
    assert.equal(retried.attempts, 2);
    assert.equal(retried.retry_count, 1);
    // a running job cannot be retried a second time
    const busy = await t.ops.rest('POST', `/jobs/${shutdown.job_id}/retry`, {});
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    shutdown = retried;
  });

  step('the retry is cancelled too (REST); the history tells the whole story', async () => {
    const res = await t.ops.rest('POST', `/jobs/${shutdown.job_id}/cancel`, {});
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await t.ops.finish(res.body as Job, 'cancelled');
    assert.equal((await t.ops.vm(t.node, vmid))?.status, 'running');
    const history = await t.ops.tool('get_job_events', { job_id: shutdown.job_id });
    const events = history.events.map((e: { event: string }) => e.event);
    assert.equal(events[0], 'created');
    for (const expected of ['submitted', 'retry_started', 'retried']) {
      assert.ok(events.includes(expected), `history has ${expected}: ${events.join(', ')}`);
    }
    assert.ok(
      events.filter((e: string) => /cancel/.test(e)).length >= 2,
      `both cancels are recorded: ${events.join(', ')}`,
    );
  });

  step('the test VM is deleted while it runs (force, approved)', async () => {
    const job = await t.ops.approvedTool<Job>('delete_vm', { node: t.node, vmid, force: true });
    await t.ops.finish(job);
    assert.equal(await t.ops.vm(t.node, vmid), undefined);
  });
});
