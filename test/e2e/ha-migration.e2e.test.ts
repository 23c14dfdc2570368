import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, simGuest, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';
import { jobsOf } from '../helpers/jobs.js';

const NODES = ['pve1', 'pve2', 'pve3'];

// migrate_ha_resource and relocate_ha_resource over MCP and REST against the schema-checked simulator. PVE answers
// the request without a task (the CRM picks the command up, the source node's LRM runs the migration): the job
// follows the HA status and the LRM's task, and ends when the guest is settled on the target.
describe('migrate_ha_resource and relocate_ha_resource', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);
  const nodeOf = (vmid: number) => simGuest(h.sim, vmid).node;
  const otherNode = (vmid: number) => NODES.find((n) => n !== nodeOf(vmid))!;
  const service = async (sid: string) =>
    (await ok('get_ha_status')).services.find((s: { sid: string }) => s.sid === sid);

  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 12 }, (sim) =>
        testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 60_000 })]),
      ),
    async (started, client) => {
      h = started;
      mcp = client;
      // a running VM and a container under HA
      await ok('add_ha_resource', { vmid: 104 });
      await ok('add_ha_resource', { vmid: 101 });
    },
  );

  test('migrate: a job without a task that runs while HA migrates, then completes on the target', async () => {
    await ok('get_vms'); // a cached inventory must not hide the move
    const from = nodeOf(104);
    const to = otherNode(104);
    assert.equal(simGuest(h.sim, 104).status, 'running');
    h.sim.tasks.script({ match: { type: 'qmigrate', id: '104' }, durationMs: 1500 });
    const seq = lastSeq();
    const r = await call('migrate_ha_resource', { vmid: 104, target_node: to });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [`POST /cluster/ha/resources/vm:104/migrate {"node":"${to}"}`]);
    const job = r.structuredContent;
    assert.equal(job.status, 'running');
    assert.equal(job.task_id, null, 'PVE starts no task for the request itself');
    assert.equal(job.node, from);
    assert.equal(job.retryable, false);
    assert.deepEqual(
      { ...job.metadata },
      { sid: 'vm:104', vmid: 104, from_node: from, to_node: to, mode: 'migrate', watch: 'ha_move' },
    );
    assert.match(resultText(r), /through the HA manager: running\nTask ID: n\/a\nJob ID: /);
    // the HA manager is at it: state migrate, the LRM's task on the source node (root@pam), the guest still there
    const moving = await service('vm:104');
    assert.equal(moving.state, 'migrate');
    assert.equal(nodeOf(104), from);
    const polled = await ok('get_job', { job_id: job.job_id, refresh: true });
    assert.equal(polled.status, 'running');
    const done = await ok('wait_job', { job_id: job.job_id, timeout_seconds: 30 });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.result.node, to);
    assert.equal(done.result.ha_state, 'started');
    assert.equal(nodeOf(104), to);
    assert.equal(simGuest(h.sim, 104).status, 'running', 'a live migration keeps it running');
    const settled = await service('vm:104');
    assert.equal(`${settled.node} ${settled.state}`, `${to} started`);
    const vms = await ok('get_vms');
    assert.equal(vms.vms.find((v: { vmid: number }) => v.vmid === 104).node, to);
  });

  // the server's poller runs every 2 s anyway; one round is forced here
  test('nobody waits: the poller settles the job; cancel_job refuses a job without a task', async () => {
    const to = otherNode(104);
    h.sim.tasks.script({ match: { type: 'qmigrate', id: '104' }, durationMs: 600 });
    const job = await ok('migrate_ha_resource', { vmid: 104, target_node: to });
    await fails('cancel_job', { job_id: job.job_id }, 'CONFLICT', /has no Proxmox task to cancel/);
    for (let i = 0; i < 100 && h.sim.cluster.ha.motions.size > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(nodeOf(104), to);
    const { poller } = jobsOf(h.server.app);
    await poller.pollOnce();
    const settled = await ok('get_job', { job_id: job.job_id });
    assert.equal(settled.status, 'completed', JSON.stringify(settled));
    assert.equal(settled.progress, 100);
    const events = await ok('get_job_events', { job_id: job.job_id });
    assert.deepEqual(
      events.events.map((e: { event: string }) => e.event),
      ['created', 'submitted', 'polled'],
    );
    assert.equal(events.events[2].details.by, poller.owner);
  });

  test('relocate over REST with wait: a container is stopped, moved and started on the target', async () => {
    const to = otherNode(101);
    await ok('update_ha_resource', { vmid: 101, state: 'started' });
    assert.equal(simGuest(h.sim, 101).status, 'running');
    const seq = lastSeq();
    const res = await request(h.url)
      .post('/ha/resources/101/relocate')
      .set(h.auth)
      .send({ target_node: to, wait: true, wait_timeout_seconds: 30 })
      .expect(202);
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.equal(res.body.tool_name, 'relocate_ha_resource');
    assert.deepEqual(changes(seq), [`POST /cluster/ha/resources/ct:101/relocate {"node":"${to}"}`]);
    assert.equal(nodeOf(101), to);
    assert.equal(simGuest(h.sim, 101).status, 'running');
    const tasks = h.sim.tasks.list(res.body.node).filter((t) => t.type === 'vzmigrate' && t.id === '101');
    assert.equal(tasks[0]?.user, 'root@pam', "the LRM's task, not the API token's");
  });

  test('guests in a positive resource-affinity rule move along; the job names them', async () => {
    const to = otherNode(104);
    h.sim.cluster.ha.rules.set('together', {
      rule: 'together',
      type: 'resource-affinity',
      affinity: 'positive',
      resources: ['vm:104', 'ct:101'],
    });
    try {
      const done = await ok('migrate_ha_resource', { vmid: 104, target_node: to, wait: true });
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result.data['comigrated-resources'], ['ct:101']);
      assert.deepEqual(done.result.comigrated, ['ct:101']);
      assert.equal(nodeOf(104), to);
      // ct:101 moves in its own LRM task; wait for it to settle
      for (let i = 0; i < 50 && nodeOf(101) !== to; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(nodeOf(101), to);
    } finally {
      h.sim.cluster.ha.rules.delete('together');
    }
  });

  test("the LRM's migration fails (the target went offline): the job fails with the task's error", async () => {
    const from = nodeOf(104);
    const to = otherNode(104);
    h.sim.tasks.script({ match: { type: 'qmigrate', id: '104' }, durationMs: 800 });
    const job = await ok('migrate_ha_resource', { vmid: 104, target_node: to });
    h.sim.cluster.setNodeOnline(to, false);
    try {
      const r = await call('wait_job', { job_id: job.job_id, timeout_seconds: 30 });
      const failed = r.structuredContent;
      assert.equal(failed.status, 'failed', JSON.stringify(failed));
      assert.match(
        failed.last_error,
        /HA manager's migrate task UPID:\S+:qmigrate:104:root@pam: failed: .*not online/,
      );
      assert.equal(nodeOf(104), from, 'the guest stays where it was');
      assert.equal((await service('vm:104')).state, 'started');
    } finally {
      h.sim.cluster.setNodeOnline(to, true);
    }
  });

  test('refusals before anything is sent: not HA-managed, unknown/offline/current node, ignored, rules, bad input', async () => {
    const to = otherNode(104);
    const seq = lastSeq();
    await fails(
      'migrate_ha_resource',
      { vmid: 100, target_node: to },
      'NOT_FOUND',
      /Guest 100 is not HA-managed[^]*migrate_vm/,
    );
    await fails(
      'migrate_ha_resource',
      { vmid: 104, target_node: 'pve9' },
      'NOT_FOUND',
      /Node 'pve9' is not part of the cluster/,
    );
    await fails(
      'relocate_ha_resource',
      { vmid: 104, target_node: nodeOf(104) },
      'CONFLICT',
      /vm:104 is already on node/,
    );
    await fails('migrate_ha_resource', { vmid: 104, target_node: '-bad' }, 'VALIDATION', /target_node/);
    await fails('migrate_ha_resource', { vmid: 104 }, 'VALIDATION', /target_node/);
    await fails('migrate_ha_resource', { vmid: 104, target_node: to, online: true }, 'VALIDATION', /online/);
    h.sim.cluster.setNodeOnline(to, false);
    try {
      await fails(
        'migrate_ha_resource',
        { vmid: 104, target_node: to },
        'CONFLICT',
        /Target node \S+ is offline/,
      );
    } finally {
      h.sim.cluster.setNodeOnline(to, true);
    }
    const resource = h.sim.cluster.ha.resources.get('vm:104')!;
    resource.state = 'ignored';
    try {
      await fails(
        'migrate_ha_resource',
        { vmid: 104, target_node: to },
        'CONFLICT',
        /requested state ignored[^]*migrate_vm/,
      );
    } finally {
      resource.state = 'started';
    }
    // ct:101 is kept apart from vm:104, and vm:104 may run only where it is
    const [here, there] = [nodeOf(104), otherNode(104)];
    h.sim.cluster.moveGuest(simGuest(h.sim, 101), there);
    h.sim.cluster.ha.rules.set('apart', {
      rule: 'apart',
      type: 'resource-affinity',
      affinity: 'negative',
      resources: ['vm:104', 'ct:101'],
    });
    h.sim.cluster.ha.rules.set('only', {
      rule: 'only',
      type: 'node-affinity',
      strict: true,
      resources: ['vm:104'],
      nodes: [`${here}:2`],
    });
    try {
      await fails(
        'migrate_ha_resource',
        { vmid: 101, target_node: here },
        'CONFLICT',
        new RegExp(`HA rule apart keeps ct:101 apart from vm:104, which is on node ${here}`),
      );
      h.sim.cluster.ha.rules.delete('apart');
      await fails(
        'relocate_ha_resource',
        { vmid: 104, target_node: there },
        'CONFLICT',
        new RegExp(`HA rule only allows vm:104 only on ${here}, not on ${there}`),
      );
    } finally {
      h.sim.cluster.ha.rules.delete('apart');
      h.sim.cluster.ha.rules.delete('only');
    }
    assert.deepEqual(changes(seq), []);
    await request(h.url).post('/ha/resources/104/migrate').set(h.auth).send({ target_node: 7 }).expect(400);
  });

  test('migrate_vm refuses an HA-managed VM and names migrate_ha_resource', async () => {
    const text = await fails(
      'migrate_vm',
      { node: nodeOf(104), vmid: 104, target_node: otherNode(104) },
      'CONFLICT',
      /managed by HA/,
    );
    assert.match(text, /migrate_ha_resource \(vmid 104, target_node \S+\)[^]*relocate_ha_resource/);
  });
});

// The PVE 9 HA rules (/cluster/ha/rules): every refusal PVE would give is checked before anything is sent.
describe('list_ha_rules, add_ha_rule, update_ha_rule', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);

  harnessSuite(
    () => startHarness({ nodes: 3, guests: 12 }),
    async (started, client) => {
      h = started;
      mcp = client;
      await ok('add_ha_resource', { vmid: 104 });
      await ok('add_ha_resource', { vmid: 101 });
      await ok('add_ha_resource', { vmid: 100 });
    },
  );

  test('no rules yet', async () => {
    const r = await call('list_ha_rules');
    assert.deepEqual(r.structuredContent.rules, []);
    assert.equal(resultText(r), 'No HA rules.');
  });

  test('add_ha_rule: a node-affinity rule with priorities, and a resource-affinity rule by bare vmids', async () => {
    let seq = lastSeq();
    const r = await call('add_ha_rule', {
      rule: 'db-nodes',
      type: 'node-affinity',
      resources: ['vm:104'],
      nodes: ['pve2:2', 'pve3'],
      strict: true,
      comment: 'database',
    });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [
      'POST /cluster/ha/rules {"comment":"database","nodes":"pve2:2,pve3","resources":"vm:104","rule":"db-nodes","strict":"1","type":"node-affinity"}',
    ]);
    assert.deepEqual(r.structuredContent.rule, {
      rule: 'db-nodes',
      type: 'node-affinity',
      nodes: ['pve2:2', 'pve3'],
      strict: true,
      resources: ['vm:104'],
      comment: 'database',
    });
    assert.equal(
      resultText(r),
      'created node-affinity rule db-nodes\n\n- db-nodes (node-affinity): vm:104 only on pve2:2, pve3 (database)',
    );
    seq = lastSeq();
    const apart = await ok('add_ha_rule', {
      rule: 'apart',
      type: 'resource-affinity',
      resources: ['104', '101'],
      affinity: 'negative',
    });
    assert.deepEqual(apart.rule.resources, ['vm:104', 'ct:101']);
    assert.deepEqual(changes(seq), [
      'POST /cluster/ha/rules {"affinity":"negative","resources":"vm:104,ct:101","rule":"apart","type":"resource-affinity"}',
    ]);
    const listed = await call('list_ha_rules');
    assert.deepEqual(
      listed.structuredContent.rules.map((x: { rule: string }) => x.rule),
      ['db-nodes', 'apart'],
    );
    assert.match(listed.structuredContent.digest, /^[0-9a-f]{40}$/);
    assert.match(
      resultText(listed),
      /^HA rules \(2\)\n- db-nodes[^\n]*\n- apart \(resource-affinity\): vm:104, ct:101 kept apart$/,
    );
    const filtered = await ok('list_ha_rules', { type: 'resource-affinity', vmid: 101 });
    assert.deepEqual(
      filtered.rules.map((x: { rule: string }) => x.rule),
      ['apart'],
    );
    // list_ha_resources shows the rules naming each resource
    const resources = await ok('list_ha_resources');
    const vm104 = resources.resources.find((x: { sid: string }) => x.sid === 'vm:104');
    assert.deepEqual(
      vm104.rules.map((x: { rule: string }) => x.rule),
      ['db-nodes', 'apart'],
    );
  });

  test('add_ha_rule refusals: unknown resource or node, priority syntax, wrong-type fields, one resource, id in use, a second node-affinity rule', async () => {
    const seq = lastSeq();
    const base = { rule: 'r1', type: 'node-affinity', resources: ['vm:100'], nodes: ['pve1'] };
    let text = await fails(
      'add_ha_rule',
      { ...base, resources: ['vm:105'] },
      'NOT_FOUND',
      /resources: vm:105 is not an HA resource/,
    );
    assert.match(text, /HA resources: vm:104, ct:101, vm:100|HA resources: .*vm:100/);
    await fails(
      'add_ha_rule',
      { ...base, resources: ['vm:101'] },
      'NOT_FOUND',
      /vm:101 is not an HA resource/,
    );
    text = await fails(
      'add_ha_rule',
      { ...base, nodes: ['pve1', 'pve7:3'] },
      'NOT_FOUND',
      /nodes: pve7 is not part of the cluster/,
    );
    assert.match(text, /Nodes: pve1, pve2, pve3/);
    await fails(
      'add_ha_rule',
      { ...base, nodes: ['pve1:high'] },
      'VALIDATION',
      /nodes must list nodes as `node` or `node:priority`/,
    );
    await fails(
      'add_ha_rule',
      { ...base, nodes: ['pve1:1', 'pve1:2'] },
      'VALIDATION',
      /node pve1 is listed twice/,
    );
    await fails(
      'add_ha_rule',
      { ...base, nodes: undefined },
      'VALIDATION',
      /nodes: a node-affinity rule needs its nodes/,
    );
    await fails(
      'add_ha_rule',
      { ...base, affinity: 'positive' },
      'VALIDATION',
      /affinity: only a resource-affinity rule has affinity/,
    );
    await fails(
      'add_ha_rule',
      {
        rule: 'r2',
        type: 'resource-affinity',
        resources: ['vm:100', 'vm:104'],
        affinity: 'positive',
        strict: true,
      },
      'VALIDATION',
      /strict: only a node-affinity rule has strict/,
    );
    await fails(
      'add_ha_rule',
      { rule: 'r2', type: 'resource-affinity', resources: ['vm:100'], affinity: 'positive' },
      'VALIDATION',
      /at least two resources/,
    );
    await fails(
      'add_ha_rule',
      { rule: 'r2', type: 'resource-affinity', resources: ['vm:100', 'vm:104'] },
      'VALIDATION',
      /affinity: a resource-affinity rule needs affinity/,
    );
    await fails('add_ha_rule', { ...base, rule: 'db-nodes' }, 'CONFLICT', /HA rule db-nodes already exists/);
    await fails(
      'add_ha_rule',
      { ...base, resources: ['vm:104'] },
      'CONFLICT',
      /vm:104 is already in node-affinity rule db-nodes/,
    );
    await fails('add_ha_rule', { ...base, rule: '1bad' }, 'VALIDATION', /rule must be an HA rule ID/);
    await fails('add_ha_rule', { ...base, type: 'group' }, 'VALIDATION', /type/);
    await fails(
      'add_ha_rule',
      { ...base, resources: ['qemu:100'] },
      'VALIDATION',
      /resources must list HA resources/,
    );
    assert.deepEqual(changes(seq), []);
  });

  test('update_ha_rule: one PUT with the type and digest; disable, enable, clear the comment', async () => {
    const { digest } = await ok('list_ha_rules');
    let seq = lastSeq();
    const r = await call('update_ha_rule', {
      rule: 'db-nodes',
      nodes: ['pve1:5', 'pve2'],
      strict: false,
      comment: '',
      digest,
    });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [
      `PUT /cluster/ha/rules/db-nodes ${JSON.stringify({ delete: 'comment', digest, nodes: 'pve1:5,pve2', strict: '0', type: 'node-affinity' })}`,
    ]);
    assert.deepEqual(r.structuredContent.changes, [
      'set nodes to pve1:5, pve2',
      'set strict to false',
      'cleared the comment',
    ]);
    assert.deepEqual(r.structuredContent.rule.nodes, ['pve1:5', 'pve2']);
    assert.equal(r.structuredContent.rule.strict, false);
    assert.equal(r.structuredContent.rule.comment, undefined);
    seq = lastSeq();
    const disabled = await ok('update_ha_rule', { rule: 'apart', disabled: true });
    assert.equal(disabled.rule.disabled, true);
    const enabled = await ok('update_ha_rule', {
      rule: 'apart',
      disabled: false,
      resources: ['vm:104', 'ct:101', 'vm:100'],
    });
    assert.equal(enabled.rule.disabled, undefined);
    assert.deepEqual(enabled.rule.resources, ['vm:104', 'ct:101', 'vm:100']);
    assert.deepEqual(
      changes(seq).map((c) => c.replace(/"digest":"[0-9a-f]+",/, '')),
      [
        'PUT /cluster/ha/rules/apart {"disable":"1","type":"resource-affinity"}',
        'PUT /cluster/ha/rules/apart {"delete":"disable","resources":"vm:104,ct:101,vm:100","type":"resource-affinity"}',
      ],
    );
  });

  test('update_ha_rule refusals: stale digest, unknown rule, other type, nothing to change, conflicts', async () => {
    await ok('add_ha_rule', {
      rule: 'web-nodes',
      type: 'node-affinity',
      resources: ['vm:100'],
      nodes: ['pve3'],
    });
    const seq = lastSeq();
    await fails(
      'update_ha_rule',
      { rule: 'db-nodes', strict: true, digest: '0'.repeat(40) },
      'CONFLICT',
      /HA rules changed/,
    );
    const text = await fails(
      'update_ha_rule',
      { rule: 'nope', strict: true },
      'NOT_FOUND',
      /No HA rule nope/,
    );
    assert.match(text, /HA rules: db-nodes, apart, web-nodes/);
    await fails(
      'update_ha_rule',
      { rule: 'apart', nodes: ['pve1'] },
      'VALIDATION',
      /nodes: only a node-affinity rule has nodes; this is a resource-affinity rule/,
    );
    await fails('update_ha_rule', { rule: 'apart' }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_ha_rule',
      { rule: 'apart', resources: ['vm:104'] },
      'VALIDATION',
      /at least two resources/,
    );
    await fails(
      'update_ha_rule',
      { rule: 'web-nodes', resources: ['vm:100', 'vm:104'] },
      'CONFLICT',
      /vm:104 is already in node-affinity rule db-nodes/,
    );
    assert.deepEqual(changes(seq), []);
  });

  test('REST: GET, POST and PUT /ha/rules; bad input is a 400', async () => {
    const listed = await request(h.url).get('/ha/rules').set(h.auth).expect(200);
    assert.equal(listed.body.rules.length, 3);
    const added = await request(h.url)
      .post('/ha/rules')
      .set(h.auth)
      .send({
        rule: 'together',
        type: 'resource-affinity',
        resources: ['vm:100', 'ct:101'],
        affinity: 'positive',
      })
      .expect(201);
    assert.equal(added.body.rule.affinity, 'positive');
    const updated = await request(h.url)
      .put('/ha/rules/together')
      .set(h.auth)
      .send({ comment: 'pair' })
      .expect(200);
    assert.equal(updated.body.rule.comment, 'pair');
    await request(h.url).post('/ha/rules').set(h.auth).send({ rule: 'x', type: 'node-affinity' }).expect(400);
    assert.equal(h.sim.cluster.ha.rules.size, 4);
  });
});

// delete_ha_rule is a destroy tool: an unknown rule is refused before an approval is asked for.
describe('delete_ha_rule needs an approval', () => {
  let h: Harness;
  let mcp: Client;
  const { lastSeq, mutations } = simRequests(() => h.sim);

  harnessSuite(
    () => startApprovalHarness({ nodes: 2, guests: 2 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('MCP: unknown rule refused first; a known one needs the approval, then one DELETE', async () => {
    const call = (args: Record<string, unknown>) =>
      mcp.callTool({ name: 'delete_ha_rule', arguments: args }) as any;
    await mcp.callTool({ name: 'add_ha_resource', arguments: { vmid: 100 } });
    await mcp.callTool({
      name: 'add_ha_rule',
      arguments: { rule: 'pin', type: 'node-affinity', resources: ['vm:100'], nodes: ['pve1'] },
    });
    let seq = lastSeq();
    assert.match(resultText(await call({ rule: 'nope' })), /^NOT_FOUND: No HA rule nope/);
    assert.deepEqual(mutations(seq), []);
    const refused = await call({ rule: 'pin' });
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: High-risk operation 'delete_ha_rule'/);
    assert.deepEqual(mutations(seq), []);
    const token = await approveAsOperator(
      h.url,
      /Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1],
    );
    seq = lastSeq();
    const done = await call({ rule: 'pin', approval_token: token });
    assert.equal(done.isError, undefined, resultText(done));
    assert.equal(resultText(done), 'HA rule pin deleted');
    assert.deepEqual(
      mutations(seq).map((q) => `${q.method} ${q.path}`),
      ['DELETE /cluster/ha/rules/pin'],
    );
    assert.equal(h.sim.cluster.ha.rules.size, 0);
    assert.equal(h.sim.cluster.ha.resources.size, 1, 'the HA resource stays');
  });
});
