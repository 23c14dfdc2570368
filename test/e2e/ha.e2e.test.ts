import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, simGuest, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';

// The HA tools over MCP and REST against the schema-checked simulator: resource changes are synchronous (no job),
// and every check PVE would refuse runs before the first change.
describe('get_ha_status, list_ha_resources, add_ha_resource and update_ha_resource', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);

  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 12 }, (sim) =>
        testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 60_000 })]),
      ),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('before any HA resource: quorum OK, no manager, no resources', async () => {
    const status = await call('get_ha_status');
    assert.equal(status.isError, undefined, resultText(status));
    assert.equal(status.structuredContent.quorate, true);
    assert.equal(status.structuredContent.manager_node, undefined);
    assert.deepEqual(status.structuredContent.services, []);
    assert.match(resultText(status), /^Quorum: OK\nHA manager: none/);
    const list = await call('list_ha_resources');
    assert.deepEqual(list.structuredContent.resources, []);
    assert.equal(resultText(list), 'No HA resources.');
  });

  test('add_ha_resource puts a stopped VM under HA in one POST; HA starts it; the inventory shows hastate', async () => {
    await ok('get_vms'); // fills the inventory cache: the change must not leave it stale
    assert.equal(simGuest(h.sim, 104).status, 'stopped');
    const seq = lastSeq();
    const r = await call('add_ha_resource', { vmid: 104, max_relocate: 2, comment: 'db' });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [
      'POST /cluster/ha/resources {"comment":"db","max_relocate":"2","sid":"vm:104"}',
    ]);
    const { resource } = r.structuredContent;
    assert.equal(resource.sid, 'vm:104');
    assert.equal(resource.type, 'vm');
    assert.equal(resource.state, 'started');
    assert.equal(resource.ha_state, 'started');
    assert.equal(resource.status, 'running');
    assert.equal(resource.max_restart, 1);
    assert.equal(resource.max_relocate, 2);
    assert.equal(resource.failback, true);
    assert.match(resultText(r), /^vm:104 is now HA-managed, requested state started\n\n- vm:104 \(/);
    assert.equal(simGuest(h.sim, 104).status, 'running');
    // ha_state and status come from /cluster/resources (`hastate`): the cached inventory was refreshed
    const listed = await ok('list_ha_resources');
    assert.equal(listed.resources[0].ha_state, 'started');
    assert.equal(listed.resources[0].status, 'running');
  });

  test('a container gets a ct: sid; state stopped stops it', async () => {
    assert.equal(simGuest(h.sim, 101).type, 'lxc');
    const r = await ok('add_ha_resource', { vmid: 101, state: 'stopped', failback: false });
    assert.equal(r.resource.sid, 'ct:101');
    assert.equal(r.resource.state, 'stopped');
    assert.equal(r.resource.failback, false);
    assert.equal(simGuest(h.sim, 101).status, 'stopped');
    assert.equal(simGuest(h.sim, 101).hastate, 'stopped');
  });

  test('add_ha_resource refusals: unknown guest, template, already managed, bad input; nothing is sent', async () => {
    const seq = lastSeq();
    await fails('add_ha_resource', { vmid: 9999 }, 'NOT_FOUND', /No VM or container with vmid 9999/);
    await fails('add_ha_resource', { vmid: 108 }, 'CONFLICT', /108 is a template/);
    const text = await fails(
      'add_ha_resource',
      { vmid: 104 },
      'CONFLICT',
      /Guest 104 is already HA-managed as vm:104/,
    );
    assert.match(text, /update_ha_resource/);
    await fails('add_ha_resource', { vmid: 100, state: 'running' }, 'VALIDATION', /state/);
    await fails('add_ha_resource', { vmid: 100, max_restart: -1 }, 'VALIDATION', /max_restart/);
    await fails('add_ha_resource', { vmid: 100, group: 'g1' }, 'VALIDATION', /group/);
    assert.deepEqual(changes(seq), []);
  });

  test('list_ha_resources and get_ha_status show both resources, their HA rules, the manager and each node', async () => {
    h.sim.cluster.ha.rules.set('db-nodes', {
      rule: 'db-nodes',
      type: 'node-affinity',
      resources: ['vm:104'],
      nodes: ['pve2:2', 'pve3'],
      strict: true,
    });
    const listed = await call('list_ha_resources');
    const list = listed.structuredContent;
    assert.deepEqual(list.resources[1].rules, [
      {
        rule: 'db-nodes',
        type: 'node-affinity',
        nodes: ['pve2:2', 'pve3'],
        strict: true,
        resources: ['vm:104'],
      },
    ]);
    assert.deepEqual(list.resources[0].rules, []);
    assert.match(resultText(listed), /; rules: db-nodes \(only on pve2:2 pve3\)$/);
    assert.deepEqual(
      list.resources.map((r: { sid: string; state: string }) => `${r.sid} ${r.state}`),
      ['ct:101 stopped', 'vm:104 started'],
    );
    assert.match(list.digest, /^[0-9a-f]{40}$/);
    const status = await call('get_ha_status');
    const s = status.structuredContent;
    assert.equal(s.manager_node, 'pve1');
    assert.equal(s.manager_status, 'active');
    assert.deepEqual(
      s.nodes.map((n: { node: string; status: string }) => `${n.node} ${n.status}`),
      ['pve1 online', 'pve2 online', 'pve3 online'],
    );
    assert.deepEqual(
      s.services.map((x: { sid: string; state: string }) => `${x.sid} ${x.state}`),
      ['ct:101 stopped', 'vm:104 started'],
    );
    assert.match(resultText(status), /\n- vm:104 on pve\d: started \(requested started\)/);
  });

  test('a node goes offline: its HA services are fenced and the manager says so', async () => {
    const node = simGuest(h.sim, 104).node;
    h.sim.cluster.setNodeOnline(node, false);
    try {
      const s = await ok('get_ha_status');
      assert.equal(s.nodes.find((n: { node: string }) => n.node === node).status, 'fence');
      assert.equal(s.services.find((x: { sid: string }) => x.sid === 'vm:104').state, 'fence');
    } finally {
      h.sim.cluster.setNodeOnline(node, true);
    }
  });

  test('update_ha_resource: one PUT with the digest; the comment is cleared with delete', async () => {
    const { digest } = await ok('list_ha_resources');
    const seq = lastSeq();
    const r = await call('update_ha_resource', { vmid: 104, state: 'disabled', max_restart: 3, comment: '' });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [
      `PUT /cluster/ha/resources/vm:104 ${JSON.stringify({ delete: 'comment', digest, max_restart: '3', state: 'disabled' })}`,
    ]);
    assert.deepEqual(r.structuredContent.changes, [
      'set state to disabled',
      'set max_restart to 3',
      'cleared the comment',
    ]);
    assert.equal(r.structuredContent.resource.comment, undefined);
    assert.equal(r.structuredContent.resource.ha_state, 'stopped');
    assert.equal(simGuest(h.sim, 104).status, 'stopped');
  });

  test('update_ha_resource refusals: a stale digest, an unmanaged guest, nothing to change', async () => {
    const seq = lastSeq();
    await fails(
      'update_ha_resource',
      { vmid: 104, state: 'started', digest: '0'.repeat(40) },
      'CONFLICT',
      /HA configuration changed/,
    );
    await fails(
      'update_ha_resource',
      { vmid: 100, state: 'started' },
      'NOT_FOUND',
      /Guest 100 is not HA-managed/,
    );
    await fails('update_ha_resource', { vmid: 104 }, 'VALIDATION', /Nothing to change/);
    assert.deepEqual(changes(seq), []);
  });

  test('REST: POST and PUT /ha/resources, GET /ha/status; bad input is a 400', async () => {
    const added = await request(h.url).post('/ha/resources').set(h.auth).send({ vmid: 100 }).expect(201);
    assert.equal(added.body.resource.sid, 'vm:100');
    const updated = await request(h.url)
      .put('/ha/resources/100')
      .set(h.auth)
      .send({ state: 'ignored' })
      .expect(200);
    assert.equal(updated.body.resource.state, 'ignored');
    const status = await request(h.url).get('/ha/status').set(h.auth).expect(200);
    assert.ok(status.body.services.some((x: { sid: string; state: string }) => x.sid === 'vm:100'));
    await request(h.url).post('/ha/resources').set(h.auth).send({ vmid: 'x' }).expect(400);
  });
});

// remove_ha_resource is a destroy tool: with the shipped policy (enforce) it needs an operator's approval, asked for
// only after its read-only checks pass.
describe('remove_ha_resource needs an approval', () => {
  let h: Harness;
  let mcp: Client;
  const { lastSeq, mutations } = simRequests(() => h.sim);
  const approve = (id: string) => approveAsOperator(h.url, id);

  harnessSuite(
    () => startApprovalHarness({ nodes: 1, guests: 2 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('MCP: an unmanaged guest is refused before an approval; a managed one needs it, then runs once', async () => {
    let seq = lastSeq();
    const unmanaged = (await mcp.callTool({ name: 'remove_ha_resource', arguments: { vmid: 100 } })) as any;
    assert.match(resultText(unmanaged), /^NOT_FOUND: Guest 100 is not HA-managed/);
    assert.deepEqual(mutations(seq), []);

    const added = (await mcp.callTool({ name: 'add_ha_resource', arguments: { vmid: 100 } })) as any;
    assert.equal(added.isError, undefined, resultText(added));
    h.sim.cluster.ha.rules.set('web', {
      rule: 'web',
      type: 'node-affinity',
      resources: ['vm:100'],
      nodes: ['pve1'],
    });
    seq = lastSeq();
    const refused = (await mcp.callTool({ name: 'remove_ha_resource', arguments: { vmid: 100 } })) as any;
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: High-risk operation 'remove_ha_resource'/);
    assert.deepEqual(mutations(seq), []);
    const token = await approve(/Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1]);
    const done = (await mcp.callTool({
      name: 'remove_ha_resource',
      arguments: { vmid: 100, approval_token: token },
    })) as any;
    assert.equal(done.isError, undefined, resultText(done));
    assert.equal(resultText(done), 'vm:100 is no longer HA-managed (the guest itself is unchanged)');
    assert.deepEqual(
      mutations(seq).map((q) => `${q.method} ${q.path}`),
      ['DELETE /cluster/ha/resources/vm:100'],
    );
    assert.equal(h.sim.cluster.ha.resources.size, 0);
    assert.equal(h.sim.cluster.guest(100)?.hastate, undefined);
    assert.equal(h.sim.cluster.ha.rules.size, 0, 'the rule naming only vm:100 went with it (purge)');
  });

  test('REST DELETE takes the token in the X-Approval-Token header', async () => {
    await request(h.url).post('/ha/resources').set(h.auth).send({ vmid: 101 }).expect(201);
    const refused = await request(h.url).delete('/ha/resources/101').set(h.auth).expect(403);
    assert.equal(refused.body.details.tool, 'remove_ha_resource');
    const token = await approve(refused.body.details.request_id);
    const done = await request(h.url)
      .delete('/ha/resources/101')
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
    assert.equal(done.body.sid, 'ct:101');
    assert.equal(h.sim.cluster.ha.resources.size, 0);
  });
});
