import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PveSimulator } from '../../src/simulator/index.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { replicasSuite, vmWithSlowSnapshot } from '../helpers/replicas.js';
import { modernRpc, WITH_TASKS, type RpcAnswer } from '../helpers/modern-rpc.js';

// Durable jobs as MCP Tasks (io.modelcontextprotocol/tasks, protocol 2026-07-28): a job-returning tool answers a
// client that declared the extension with a task handle; tasks/get reads the job, tasks/cancel stops its PVE task.
// Raw JSON-RPC here: the SDK clients neither send the extension capability nor accept task handles.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Rpc = ReturnType<typeof modernRpc>;

async function pollTask(rpc: Rpc, taskId: string, until: (r: RpcAnswer) => boolean, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const got = await rpc('tasks/get', { taskId }, WITH_TASKS);
    assert.equal(got.error, undefined, JSON.stringify(got.error));
    if (until(got) || Date.now() > deadline) return got;
    await sleep(100);
  }
}

const nodeOf = (sim: PveSimulator, vmid: number) => sim.cluster.guest(vmid)!.node;

describe('MCP Tasks over the job store (one server, SQLite)', () => {
  let h: Harness;
  let rpc: Rpc;

  before(async () => {
    h = await startHarness({ taskSeconds: 1 });
    rpc = modernRpc(h.url, h.auth);
  });
  after(() => h.close());

  test('server/discover advertises the Tasks extension', async () => {
    const discover = await rpc('server/discover');
    assert.deepEqual(discover.result.capabilities.extensions, { 'io.modelcontextprotocol/tasks': {} });
  });

  test('create_snapshot runs as a task: a handle at once, tasks/get until completed with the job as result', async () => {
    const node = nodeOf(h.sim, 102);
    const started = await rpc(
      'tools/call',
      { name: 'create_snapshot', arguments: { node, vmid: 102, snapname: 'as_task' } },
      WITH_TASKS,
    );
    assert.equal(started.error, undefined, JSON.stringify(started.error));
    const handle = started.result;
    assert.equal(handle.resultType, 'task');
    assert.match(handle.taskId, UUID);
    assert.equal(handle.status, 'working');
    assert.ok(handle.pollIntervalMs > 0 && handle.ttlMs > 0);
    assert.equal(handle.content, undefined, 'a task handle is not a CallToolResult');

    const done = await pollTask(rpc, handle.taskId, (r) => r.result.status !== 'working');
    assert.equal(done.result.resultType, 'complete');
    assert.equal(done.result.status, 'completed', JSON.stringify(done.result));
    const job = done.result.result.structuredContent;
    assert.equal(job.job_id, handle.taskId);
    assert.equal(job.status, 'completed');
    assert.match(job.task_id, /:qmsnapshot:102:/);
    assert.equal(done.result.result.isError, undefined);
    assert.ok(h.sim.cluster.guest(102)!.snapshots.has('as_task'), 'the snapshot exists in the simulator');

    // the job tools still see the same job
    const legacy = await h.mcp();
    const viaTool = (await legacy.callTool({ name: 'get_job', arguments: { job_id: handle.taskId } })) as any;
    assert.equal(viaTool.structuredContent.status, 'completed');
  });

  test('tasks/cancel stops the PVE task; the task ends cancelled', async () => {
    const node = nodeOf(h.sim, 104);
    h.sim.tasks.script({ match: { type: 'qmsnapshot', id: '104' }, durationMs: 60_000 });
    const started = await rpc(
      'tools/call',
      { name: 'create_snapshot', arguments: { node, vmid: 104, snapname: 'to_cancel' } },
      WITH_TASKS,
    );
    const { taskId } = started.result;
    const deletes = h.sim.requestCount({ method: 'DELETE', path: /\/tasks\// });
    const cancelled = await rpc('tasks/cancel', { taskId }, WITH_TASKS);
    assert.equal(cancelled.error, undefined, JSON.stringify(cancelled.error));
    assert.equal(cancelled.result.resultType, 'complete');
    assert.equal(
      h.sim.requestCount({ method: 'DELETE', path: /\/tasks\// }),
      deletes + 1,
      'DELETE on the PVE task',
    );
    const ended = await pollTask(rpc, taskId, (r) => r.result.status !== 'working');
    assert.equal(ended.result.status, 'cancelled');
    assert.equal(ended.result.result, undefined);
    const job = (await (await h.mcp()).callTool({ name: 'get_job', arguments: { job_id: taskId } })) as any;
    assert.equal(h.sim.tasks.get(job.structuredContent.task_id)?.exitstatus, 'received interrupt');
    // a second cancel of an ended task is acknowledged (cancellation is cooperative), and sends nothing
    const again = await rpc('tasks/cancel', { taskId }, WITH_TASKS);
    assert.equal(again.error, undefined);
    assert.equal(h.sim.requestCount({ method: 'DELETE', path: /\/tasks\// }), deletes + 1);
  });

  test('a PVE task that fails completes the task with the tool error (isError), not a JSON-RPC failure', async () => {
    const node = nodeOf(h.sim, 106);
    h.sim.tasks.script({
      match: { type: 'qmsnapshot', id: '106' },
      exitstatus: 'snapshot feature is not available',
    });
    const started = await rpc(
      'tools/call',
      { name: 'create_snapshot', arguments: { node, vmid: 106, snapname: 'will_fail' } },
      WITH_TASKS,
    );
    const ended = await pollTask(rpc, started.result.taskId, (r) => r.result.status !== 'working');
    assert.equal(ended.result.status, 'completed');
    assert.equal(ended.result.result.isError, true);
    assert.match(ended.result.result.content[0].text, /^JOB_FAILED: .*snapshot feature is not available/);
    assert.equal(ended.result.result.structuredContent.status, 'failed');
  });

  test('without the extension the same call answers the job as today; read tools never become tasks', async () => {
    const node = nodeOf(h.sim, 110);
    const plain = await rpc('tools/call', {
      name: 'create_snapshot',
      arguments: { node, vmid: 110, snapname: 'plain' },
    });
    assert.equal(plain.result.resultType, 'complete');
    assert.match(plain.result.structuredContent.job_id, UUID);
    const read = await rpc('tools/call', { name: 'get_vms', arguments: {} }, WITH_TASKS);
    assert.equal(read.result.resultType, 'complete');
    assert.ok(Array.isArray(read.result.structuredContent.vms));
    // a job that already ended (wait: true) is answered as the result, not as a task
    const waited = await rpc(
      'tools/call',
      {
        name: 'create_snapshot',
        arguments: { node: nodeOf(h.sim, 100), vmid: 100, snapname: 'waited', wait: true },
      },
      WITH_TASKS,
    );
    assert.equal(waited.result.resultType, 'complete');
    assert.equal(waited.result.structuredContent.status, 'completed');
  });

  test('tasks/get and tasks/cancel refuse a missing, malformed or unknown task id with -32602', async () => {
    for (const params of [{}, { taskId: 42 }, { taskId: '' }]) {
      const got = await rpc('tasks/get', params, WITH_TASKS);
      assert.equal(got.error?.code, -32602, JSON.stringify(got));
      assert.match(got.error.message, /taskId must be the task id/);
    }
    const unknown = await rpc('tasks/get', { taskId: '00000000-0000-4000-8000-000000000000' }, WITH_TASKS);
    assert.equal(unknown.error?.code, -32602);
    assert.match(unknown.error.message, /Unknown task '00000000-0000-4000-8000-000000000000'/);
    const cancel = await rpc('tasks/cancel', { taskId: 'not-a-job' }, WITH_TASKS);
    assert.equal(cancel.error?.code, -32602);
  });

  test('tasks/* from a 2026-07-28 client that did not declare the extension: -32021 naming it', async () => {
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const refused = await rpc(method, {
        taskId: '00000000-0000-4000-8000-000000000000',
        inputResponses: {},
      });
      assert.equal(refused.error?.code, -32021, `${method}: ${JSON.stringify(refused)}`);
      assert.deepEqual(refused.error?.data, {
        requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } },
      });
    }
  });

  test('tasks/update acknowledges a known task (ours never wait for input) and refuses an unknown one', async () => {
    const node = nodeOf(h.sim, 110);
    const started = await rpc(
      'tools/call',
      { name: 'create_snapshot', arguments: { node, vmid: 110, snapname: 'update_me' } },
      WITH_TASKS,
    );
    const { taskId } = started.result;
    const ack = await rpc(
      'tasks/update',
      { taskId, inputResponses: { nothing: { action: 'accept' } } },
      WITH_TASKS,
    );
    assert.equal(ack.error, undefined, JSON.stringify(ack.error));
    assert.equal(ack.result.resultType, 'complete');
    const unknown = await rpc(
      'tasks/update',
      { taskId: '00000000-0000-4000-8000-000000000000', inputResponses: {} },
      WITH_TASKS,
    );
    assert.equal(unknown.error?.code, -32602);
    await pollTask(rpc, taskId, (r) => r.result.status !== 'working');
  });
});

describe('MCP Tasks across two replicas sharing PostgreSQL', { skip: postgresSkipReason() }, () => {
  const replicas = replicasSuite();

  test('a task started on one replica is read and cancelled on the other', async () => {
    const { sim, a, b } = replicas();
    const vm = vmWithSlowSnapshot(sim);
    const onA = modernRpc(a.url, a.auth);
    const onB = modernRpc(b.url, b.auth);
    const started = await onA(
      'tools/call',
      { name: 'create_snapshot', arguments: { node: vm.node, vmid: vm.vmid, snapname: 'replica_task' } },
      WITH_TASKS,
    );
    assert.equal(started.result?.resultType, 'task', JSON.stringify(started));
    const { taskId } = started.result;

    const seen = await onB('tasks/get', { taskId }, WITH_TASKS);
    assert.equal(seen.result.status, 'working');
    assert.equal(seen.result.taskId, taskId);

    const cancelled = await onB('tasks/cancel', { taskId }, WITH_TASKS);
    assert.equal(cancelled.error, undefined, JSON.stringify(cancelled.error));
    const ended = await pollTask(onA, taskId, (r) => r.result.status !== 'working');
    assert.equal(ended.result.status, 'cancelled');
    assert.equal(sim.requestCount({ method: 'DELETE', path: /\/tasks\// }), 1);
  });
});
