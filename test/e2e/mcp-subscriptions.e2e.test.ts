import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { replicasSuite, vmWithSlowSnapshot } from '../helpers/replicas.js';
import { MODERN, modernRpc, TASKS, WITH_TASKS } from '../helpers/modern-rpc.js';
import { startModernStdio, type StdioMessage } from '../helpers/modern-stdio.js';

// subscriptions/listen (MCP 2026-07-28) for task status: a client that declared the Tasks extension names task
// ids and receives notifications/tasks (the full task, as tasks/get returns it) for each status change, from the
// job store's change feed — in-process on SQLite, PostgreSQL LISTEN/NOTIFY across replicas.

type Message = StdioMessage;

let nextId = 1000;

/** An open subscriptions/listen stream read message by message (raw 2026-07-28 JSON-RPC over SSE). */
async function listen(url: string, auth: Record<string, string>, notifications: object, capabilities = {}) {
  const id = nextId++;
  const controller = new AbortController();
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      ...auth,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'subscriptions/listen',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'subscriptions/listen',
      params: {
        notifications,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientInfo': { name: 'listen-e2e', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': capabilities,
        },
      },
    }),
  });
  const messages: Message[] = [];
  let ended = false;
  let wake = () => {};
  const reading = (async () => {
    if (!res.headers.get('content-type')?.includes('text/event-stream')) {
      const text = await res.text();
      if (text) messages.push(JSON.parse(text) as Message);
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5))
            .join('\n');
          if (data) messages.push(JSON.parse(data) as Message);
          wake();
        }
      }
    } catch {
      // aborted by close()
    }
  })().finally(() => {
    ended = true;
    wake();
  });
  return {
    id,
    status: res.status,
    messages,
    /** The first message from `from` on that matches, within `ms`. */
    async next(match: (m: Message) => boolean, ms = 20_000, from = 0): Promise<Message> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.slice(from).find(match);
        if (found) return found;
        if (ended) throw new Error(`stream ended without it: ${JSON.stringify(messages)}`);
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
    },
    /** Resolves when the server ends the stream. */
    ended: () => reading,
    close: () => controller.abort(),
  };
}

const tasksOf = (messages: Message[]) =>
  messages.filter((m) => m.method === 'notifications/tasks').map((m) => m.params);

describe('subscriptions/listen for task status (one server, SQLite)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ taskSeconds: 1 });
  });
  after(() => h.close());

  test('a create_snapshot task: ack with its id, then each status change up to completed, then the stream ends', async () => {
    const rpc = modernRpc(h.url, h.auth);
    const node = h.sim.cluster.guest(102)!.node;
    h.sim.tasks.script({ match: { type: 'qmsnapshot', id: '102' }, durationMs: 2500 });
    const started = await rpc(
      'tools/call',
      { name: 'create_snapshot', arguments: { node, vmid: 102, snapname: 'listened' } },
      WITH_TASKS,
    );
    assert.equal(started.result?.resultType, 'task', JSON.stringify(started));
    const { taskId } = started.result;

    const stream = await listen(h.url, h.auth, { taskIds: [taskId] }, WITH_TASKS.capabilities);
    assert.equal(stream.status, 200);
    const ack = await stream.next((m) => m.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params.notifications, { taskIds: [taskId] });
    assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], stream.id);
    assert.equal(stream.messages[0], ack, 'the acknowledgement comes first');

    await stream.ended();
    const tasks = tasksOf(stream.messages);
    assert.ok(tasks.length >= 2, JSON.stringify(tasks));
    assert.equal(tasks[0].taskId, taskId);
    assert.equal(tasks[0].status, 'working', 'the state at subscribe time first');
    const last = tasks.at(-1);
    assert.equal(last.status, 'completed');
    assert.equal(last._meta['io.modelcontextprotocol/subscriptionId'], stream.id);
    // the full task, as tasks/get would answer it: the job as the tool result
    assert.equal(last.result.structuredContent.job_id, taskId);
    assert.equal(last.result.structuredContent.status, 'completed');
    assert.match(last.result.structuredContent.task_id, /:qmsnapshot:102:/);
    const polled = await rpc('tasks/get', { taskId }, WITH_TASKS);
    assert.equal(polled.result.status, last.status);
    assert.equal(polled.result.lastUpdatedAt, last.lastUpdatedAt);
    // the server ended the stream gracefully: the listen's own result, carrying the subscription id
    const closing = stream.messages.at(-1)!;
    assert.equal(closing.id, stream.id);
    assert.equal(closing.result.resultType, 'complete');
    assert.equal(closing.result._meta['io.modelcontextprotocol/subscriptionId'], stream.id);
    assert.ok(h.sim.cluster.guest(102)!.snapshots.has('listened'));
  });

  test('a cancelled task: the listen sees cancelled; closing the stream early is fine', async () => {
    const rpc = modernRpc(h.url, h.auth);
    const node = h.sim.cluster.guest(104)!.node;
    h.sim.tasks.script({ match: { type: 'qmsnapshot', id: '104' }, durationMs: 60_000 });
    const started = await rpc(
      'tools/call',
      { name: 'create_snapshot', arguments: { node, vmid: 104, snapname: 'to_cancel' } },
      WITH_TASKS,
    );
    const { taskId } = started.result;
    const stream = await listen(h.url, h.auth, { taskIds: [taskId] }, WITH_TASKS.capabilities);
    await stream.next((m) => m.method === 'notifications/tasks' && m.params.status === 'working');
    const cancel = await rpc('tasks/cancel', { taskId }, WITH_TASKS);
    assert.equal(cancel.error, undefined, JSON.stringify(cancel.error));
    const ended = await stream.next(
      (m) => m.method === 'notifications/tasks' && m.params.status === 'cancelled',
    );
    assert.equal(ended.params.taskId, taskId);
    await stream.ended();

    // a client may also hang up first: the server keeps serving
    const other = await listen(h.url, h.auth, { taskIds: [taskId] }, WITH_TASKS.capabilities);
    await other.next((m) => m.method === 'notifications/subscriptions/acknowledged');
    other.close();
    assert.equal((await rpc('tasks/get', { taskId }, WITH_TASKS)).result.status, 'cancelled');
  });

  test('task notifications without the Tasks extension declared: -32021 naming the capability', async () => {
    const stream = await listen(h.url, h.auth, { taskIds: ['00000000-0000-4000-8000-000000000000'] });
    await stream.ended();
    assert.equal(stream.status, 400);
    const [answer] = stream.messages;
    assert.equal(answer.id, stream.id);
    assert.equal(answer.error?.code, -32021);
    assert.deepEqual(answer.error?.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });
    assert.match(answer.error.message, /io\.modelcontextprotocol\/tasks/);
  });

  test('unknown task ids are left out of the ack; with nothing to watch the stream ends at once', async () => {
    const stream = await listen(
      h.url,
      h.auth,
      { taskIds: ['00000000-0000-4000-8000-000000000000', 'not-a-job'] },
      WITH_TASKS.capabilities,
    );
    await stream.ended();
    const [ack, closing] = stream.messages;
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params.notifications, {});
    assert.equal(closing.id, stream.id);
    assert.equal(closing.result.resultType, 'complete');
  });

  test('malformed taskIds: -32602 naming the field', async () => {
    const stream = await listen(h.url, h.auth, { taskIds: 'x' }, WITH_TASKS.capabilities);
    await stream.ended();
    assert.equal(stream.messages[0].error?.code, -32602);
    assert.match(stream.messages[0].error.message, /notifications\.taskIds must be an array/);
    const many = Array.from(
      { length: 101 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const tooMany = await listen(h.url, h.auth, { taskIds: many }, WITH_TASKS.capabilities);
    await tooMany.ended();
    assert.match(tooMany.messages[0].error!.message, /at most 100 per listen/);
  });

  test('over stdio: a task listen gets the same ack, task notifications and end; -32021 without the extension', async () => {
    const stdio = startModernStdio(h.sim);
    const { received, until } = stdio;
    const request = stdio.send;
    try {
      const node = h.sim.cluster.guest(106)!.node;
      h.sim.tasks.script({ match: { type: 'qmsnapshot', id: '106' }, durationMs: 2500 });
      request(
        1,
        'tools/call',
        { name: 'create_snapshot', arguments: { node, vmid: 106, snapname: 'stdio_listen' } },
        WITH_TASKS.capabilities,
      );
      const started = await until((m) => m.id === 1);
      assert.equal(started.result?.resultType, 'task', JSON.stringify(started));
      const { taskId } = started.result;

      request(2, 'subscriptions/listen', { notifications: { taskIds: [taskId] } });
      const refused = await until((m) => m.id === 2);
      assert.equal(refused.error?.code, -32021);

      request(3, 'subscriptions/listen', { notifications: { taskIds: [taskId] } }, WITH_TASKS.capabilities);
      const ack = await until(
        (m) =>
          m.method === 'notifications/subscriptions/acknowledged' &&
          m.params._meta['io.modelcontextprotocol/subscriptionId'] === 3,
      );
      assert.deepEqual(ack.params.notifications, { taskIds: [taskId] });
      const closing = await until((m) => m.id === 3);
      assert.equal(closing.result.resultType, 'complete');
      const tasks = tasksOf(received);
      assert.equal(tasks[0].status, 'working');
      assert.equal(tasks.at(-1).status, 'completed');
      assert.equal(tasks.at(-1).result.structuredContent.job_id, taskId);
      assert.ok(h.sim.cluster.guest(106)!.snapshots.has('stdio_listen'));
      // the same task over stdio's tasks/get
      const polled = await stdio.call(4, 'tasks/get', { taskId }, WITH_TASKS.capabilities);
      assert.equal(polled.result.status, 'completed');
    } finally {
      await stdio.close();
    }
  });

  test('a listen without taskIds is still the SDK router: an ack of what the server can deliver', async () => {
    const stream = await listen(h.url, h.auth, { toolsListChanged: true }, WITH_TASKS.capabilities);
    await stream.ended();
    const [ack] = stream.messages;
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    // tools.listChanged is not advertised: nothing honored, so the stream closes
    assert.deepEqual(ack.params.notifications, {});
  });
});

describe(
  'subscriptions/listen across two replicas sharing PostgreSQL',
  { skip: postgresSkipReason() },
  () => {
    const replicas = replicasSuite();

    test('listening on B: a task started and cancelled on A is pushed to B up to its end', async () => {
      const { sim, a, b } = replicas();
      const vm = vmWithSlowSnapshot(sim);
      const onA = modernRpc(a.url, a.auth);
      const started = await onA(
        'tools/call',
        { name: 'create_snapshot', arguments: { node: vm.node, vmid: vm.vmid, snapname: 'listen_replica' } },
        WITH_TASKS,
      );
      assert.equal(started.result?.resultType, 'task', JSON.stringify(started));
      const { taskId } = started.result;

      const stream = await listen(b.url, b.auth, { taskIds: [taskId] }, WITH_TASKS.capabilities);
      const ack = await stream.next((m) => m.method === 'notifications/subscriptions/acknowledged');
      assert.deepEqual(ack.params.notifications, { taskIds: [taskId] });
      const first = await stream.next((m) => m.method === 'notifications/tasks');
      assert.equal(first.params.status, 'working');
      const seenBefore = stream.messages.length;

      // the change is written by replica A; B hears it through PostgreSQL NOTIFY
      const cancel = await onA('tasks/cancel', { taskId }, WITH_TASKS);
      assert.equal(cancel.error, undefined, JSON.stringify(cancel.error));
      const pushed = await stream.next((m) => m.method === 'notifications/tasks', 20_000, seenBefore);
      assert.equal(pushed.params.taskId, taskId);
      const end = await stream.next(
        (m) => m.method === 'notifications/tasks' && m.params.status === 'cancelled',
      );
      assert.equal(end.params.taskId, taskId);
      await stream.ended();
    });

    test('a replica shutting down ends its open listens gracefully and exits cleanly', async () => {
      const { sim, a, b } = replicas();
      const vm = [...sim.cluster.guests()].filter((g) => g.type === 'qemu' && g.status === 'running')[1];
      sim.tasks.script({ match: { type: 'qmsnapshot', id: String(vm.vmid) }, durationMs: 60_000 });
      const onA = modernRpc(a.url, a.auth);
      const started = await onA(
        'tools/call',
        { name: 'create_snapshot', arguments: { node: vm.node, vmid: vm.vmid, snapname: 'listen_shutdown' } },
        WITH_TASKS,
      );
      const { taskId } = started.result;
      const stream = await listen(b.url, b.auth, { taskIds: [taskId] }, WITH_TASKS.capabilities);
      await stream.next((m) => m.method === 'notifications/tasks');
      await b.stop();
      await stream.ended();
      const closing = stream.messages.at(-1)!;
      assert.equal(closing.id, stream.id);
      assert.equal(closing.result.resultType, 'complete');
      await onA('tasks/cancel', { taskId }, WITH_TASKS);
    });
  },
);
