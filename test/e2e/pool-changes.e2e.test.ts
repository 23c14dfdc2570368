import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, simGuest, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';

/** A pool of the simulator (fails the test when it does not exist). */
function simPool(h: Harness, poolid: string) {
  const pool = h.sim.cluster.pools.get(poolid);
  assert.ok(pool, `pool ${poolid} exists`);
  return pool;
}

const guestsOf = (h: Harness, poolid: string) =>
  [...h.sim.cluster.guests()]
    .filter((g) => g.pool === poolid)
    .map((g) => g.vmid)
    .sort((a, b) => a - b);

// create_pool, update_pool and delete_pool over MCP and REST against the schema-checked simulator: every check
// PVE would refuse runs before the first change, so a refused call sends nothing but reads.
describe('create_pool, update_pool and delete_pool', () => {
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
      simGuest(h.sim, 104).pool = 'lab';
    },
  );

  test('create_pool makes an empty pool with its comment, in one POST', async () => {
    const seq = lastSeq();
    const r = await call('create_pool', { poolid: 'team-a', comment: 'Team A' });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(r.structuredContent.pool, {
      poolid: 'team-a',
      comment: 'Team A',
      guests: [],
      storages: [],
    });
    assert.deepEqual(r.structuredContent.changes, ["created pool 'team-a' with its comment"]);
    assert.equal(r.structuredContent.target, (await ok('get_nodes')).target);
    assert.match(
      resultText(r),
      /^created pool 'team-a' with its comment\n\nteam-a \(Team A\): 0 guest\(s\)$/,
    );
    assert.deepEqual(changes(seq), ['POST /pools {"comment":"Team A","poolid":"team-a"}']);
    assert.equal(simPool(h, 'team-a').comment, 'Team A');
  });

  test('create_pool: a nested pool needs its parent', async () => {
    const created = await ok('create_pool', { poolid: 'team-a/web' });
    assert.equal(created.pool.poolid, 'team-a/web');
    assert.ok(h.sim.cluster.pools.has('team-a/web'));
    const seq = lastSeq();
    await fails(
      'create_pool',
      { poolid: 'nowhere/web' },
      'NOT_FOUND',
      /Parent pool 'nowhere' of 'nowhere\/web'/,
    );
    assert.deepEqual(changes(seq), []);
  });

  test('create_pool refusals: an existing pool, a bad pool id, an unknown argument; nothing is sent', async () => {
    const seq = lastSeq();
    const text = await fails(
      'create_pool',
      { poolid: 'prod' },
      'CONFLICT',
      /Resource pool 'prod' already exists/,
    );
    assert.match(text, /update_pool/);
    await fails('create_pool', { poolid: 'no spaces' }, 'VALIDATION', /poolid/);
    await fails('create_pool', { poolid: 'a/b/c/d' }, 'VALIDATION', /poolid/);
    await fails('create_pool', { poolid: 'x1', members: [100] }, 'VALIDATION', /members/);
    assert.deepEqual(changes(seq), []);
  });

  test('update_pool adds guests and storages and sets the comment, in one PUT; list_pools shows them', async () => {
    await ok('list_pools'); // fills the inventory cache: the change must not leave it stale
    const seq = lastSeq();
    const r = await call('update_pool', {
      poolid: 'team-a',
      add_guests: [100, 101],
      add_storages: ['nas'],
      comment: 'Team A (web)',
    });
    assert.equal(r.isError, undefined, resultText(r));
    const { pool } = r.structuredContent;
    assert.deepEqual(
      pool.guests.map((g: { vmid: number }) => g.vmid),
      [100, 101],
    );
    assert.deepEqual(pool.storages, ['nas']);
    assert.equal(pool.comment, 'Team A (web)');
    assert.deepEqual(r.structuredContent.changes, [
      'set the comment',
      'added guests 100, 101',
      'added storages nas',
    ]);
    assert.match(resultText(r), /team-a \(Team A \(web\)\): 2 guest\(s\), storages: nas\n {2}- 100 /);
    assert.deepEqual(changes(seq), [
      'PUT /pools {"comment":"Team A (web)","poolid":"team-a","storage":"nas","vms":"100,101"}',
    ]);
    assert.deepEqual(guestsOf(h, 'team-a'), [100, 101]);
    const listed = (await ok('list_pools')).pools.find((p: { poolid: string }) => p.poolid === 'team-a');
    assert.deepEqual(listed, pool);
  });

  test('update_pool removes and adds in one call: the removal PUT (delete=1) first, then the addition', async () => {
    const seq = lastSeq();
    const r = await ok('update_pool', { poolid: 'team-a', remove_guests: [100], add_guests: [102] });
    assert.deepEqual(r.changes, ['removed guests 100', 'added guests 102']);
    assert.deepEqual(changes(seq), [
      'PUT /pools {"delete":"1","poolid":"team-a","vms":"100"}',
      'PUT /pools {"poolid":"team-a","vms":"102"}',
    ]);
    assert.deepEqual(guestsOf(h, 'team-a'), [101, 102]);
    assert.equal(simGuest(h.sim, 100).pool, undefined);
  });

  test('update_pool refusals are found before any change', async () => {
    const seq = lastSeq();
    await fails(
      'update_pool',
      { poolid: 'nope', comment: 'x' },
      'NOT_FOUND',
      /no resource pool 'nope'.*\n?.*team-a/s,
    );
    await fails('update_pool', { poolid: 'team-a', add_guests: [999] }, 'NOT_FOUND', /vmid 999/);
    await fails('update_pool', { poolid: 'team-a', add_storages: ['tape'] }, 'NOT_FOUND', /No storage tape/);
    await fails(
      'update_pool',
      { poolid: 'team-a', add_guests: [101] },
      'CONFLICT',
      /101 already in pool 'team-a'/,
    );
    await fails(
      'update_pool',
      { poolid: 'team-a', add_storages: ['nas'] },
      'CONFLICT',
      /nas already in pool/,
    );
    const moved = await fails(
      'update_pool',
      { poolid: 'team-a', add_guests: [103, 104] },
      'CONFLICT',
      /Already in another pool: 104 \(pool 'lab'\)/,
    );
    assert.match(moved, /allow_move: true/);
    await fails(
      'update_pool',
      { poolid: 'team-a', remove_guests: [105] },
      'CONFLICT',
      /105 not in pool 'team-a'/,
    );
    await fails(
      'update_pool',
      { poolid: 'team-a', remove_storages: ['local'] },
      'CONFLICT',
      /local not in pool/,
    );
    await fails('update_pool', { poolid: 'team-a' }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_pool',
      { poolid: 'team-a', add_guests: [103], remove_guests: [103] },
      'VALIDATION',
      /add_guests and remove_guests both name 103/,
    );
    await fails('update_pool', { poolid: 'team-a', add_guests: [100, 100] }, 'VALIDATION', /add_guests/);
    await fails('update_pool', { poolid: 'team-a', add_storages: ['bad id'] }, 'VALIDATION', /add_storages/);
    assert.deepEqual(changes(seq), []);
    assert.deepEqual(guestsOf(h, 'team-a'), [101, 102]);
    assert.equal(simGuest(h.sim, 104).pool, 'lab');
  });

  test('update_pool with allow_move takes a guest out of its other pool', async () => {
    const seq = lastSeq();
    const r = await ok('update_pool', { poolid: 'team-a', add_guests: [104], allow_move: true });
    assert.deepEqual(r.changes, ['added guests 104', "moved guest 104 from pool 'lab'"]);
    assert.deepEqual(changes(seq), ['PUT /pools {"allow-move":"1","poolid":"team-a","vms":"104"}']);
    assert.equal(simGuest(h.sim, 104).pool, 'team-a');
    assert.deepEqual(guestsOf(h, 'lab'), []);
  });

  test('update_pool with only an empty comment clears it', async () => {
    const r = await ok('update_pool', { poolid: 'team-a/web', comment: '' });
    assert.deepEqual(r.changes, ['cleared the comment']);
    assert.equal(simPool(h, 'team-a/web').comment, '');
  });

  test('delete_pool refuses a pool that is not empty, naming what it holds; nothing is sent', async () => {
    const seq = lastSeq();
    const r = await call('delete_pool', { poolid: 'team-a' });
    assert.equal(r.isError, true);
    const text = resultText(r);
    assert.match(
      text,
      /^CONFLICT: Resource pool 'team-a' is not empty: it holds guests 101 \(\S+\), 102 \(\S+\), 104 /,
    );
    assert.match(text, /storages nas; pools team-a\/web/);
    assert.match(
      text,
      /update_pool with remove_guests and remove_storages, and delete_pool of each sub-pool/,
    );
    await fails('delete_pool', { poolid: 'gone' }, 'NOT_FOUND', /no resource pool 'gone'/);
    await fails('delete_pool', { poolid: 'a b' }, 'VALIDATION', /poolid/);
    assert.deepEqual(changes(seq), []);
    assert.ok(h.sim.cluster.pools.has('team-a'));
  });

  test('delete_pool deletes an emptied pool', async () => {
    await ok('delete_pool', { poolid: 'team-a/web' });
    await ok('update_pool', { poolid: 'team-a', remove_guests: [101, 102, 104], remove_storages: ['nas'] });
    const seq = lastSeq();
    const r = await call('delete_pool', { poolid: 'team-a' });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(r.structuredContent, {
      target: r.structuredContent.target,
      poolid: 'team-a',
      deleted: true,
    });
    assert.match(resultText(r), /^Deleted resource pool 'team-a' on target /);
    assert.deepEqual(changes(seq), ['DELETE /pools {"poolid":"team-a"}']);
    assert.ok(!h.sim.cluster.pools.has('team-a'));
    assert.ok(!(await ok('list_pools')).pools.some((p: { poolid: string }) => p.poolid === 'team-a'));
  });

  test('REST: POST, PUT and DELETE /pools/{poolid} answer like the tools', async () => {
    const created = await request(h.url).post('/pools/rest-pool').set(h.auth).send({}).expect(201);
    assert.deepEqual(created.body.pool, { poolid: 'rest-pool', guests: [], storages: [] });
    const updated = await request(h.url)
      .put('/pools/rest-pool')
      .set(h.auth)
      .send({ add_guests: [106], add_storages: ['local'] })
      .expect(200);
    assert.deepEqual(updated.body.pool.storages, ['local']);
    assert.deepEqual(guestsOf(h, 'rest-pool'), [106]);
    const refused = await request(h.url).delete('/pools/rest-pool').set(h.auth).expect(409);
    assert.equal(refused.body.code, 'CONFLICT');
    assert.match(refused.body.message, /it holds guests 106 .*storages local/);
    assert.deepEqual(refused.body.details, { guests: [106], storages: ['local'], pools: [] });
    await request(h.url)
      .put('/pools/rest-pool')
      .set(h.auth)
      .send({ remove_guests: [106], remove_storages: ['local'] })
      .expect(200);
    // a nested pool's id travels in one path segment, its '/' encoded
    const nested = await request(h.url).post('/pools/rest-pool%2Fsub').set(h.auth).send({ comment: 'sub' });
    assert.equal(nested.body.pool?.poolid, 'rest-pool/sub', JSON.stringify(nested.body));
    await request(h.url).delete('/pools/rest-pool%2Fsub').set(h.auth).expect(200);
    const deleted = await request(h.url).delete('/pools/rest-pool').set(h.auth).expect(200);
    assert.deepEqual(deleted.body, { target: updated.body.target, poolid: 'rest-pool', deleted: true });
    await request(h.url)
      .put('/pools/prod')
      .set(h.auth)
      .send({ add_guests: ['x'] })
      .expect(400);
    await request(h.url).delete('/pools/bad%20id').set(h.auth).expect(400);
  });
});

// delete_pool is a destroy tool: with the shipped policy (enforce) it needs an operator's approval, asked for only
// after its read-only checks pass.
describe('delete_pool needs an approval', () => {
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

  test('MCP: refused without approval (nothing sent), runs once with it', async () => {
    const tools = (await mcp.listTools()).tools;
    const schema = (name: string) => tools.find((t) => t.name === name)!.inputSchema as any;
    assert.equal(schema('delete_pool').properties.approval_token.type, 'string');
    assert.equal(schema('update_pool').properties.approval_token, undefined);
    assert.equal(schema('create_pool').properties.approval_token, undefined);

    const seq = lastSeq();
    const refused = (await mcp.callTool({ name: 'delete_pool', arguments: { poolid: 'lab' } })) as any;
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: High-risk operation 'delete_pool'/);
    assert.deepEqual(mutations(seq), []);
    assert.ok(h.sim.cluster.pools.has('lab'));
    const token = await approve(/Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1]);
    const done = (await mcp.callTool({
      name: 'delete_pool',
      arguments: { poolid: 'lab', approval_token: token },
    })) as any;
    assert.equal(done.isError, undefined, resultText(done));
    assert.ok(!h.sim.cluster.pools.has('lab'));
    assert.equal(mutations(seq).length, 1);
  });

  test('a pool that is not empty is refused before an approval is asked for', async () => {
    simGuest(h.sim, 100).pool = 'prod';
    try {
      const seq = lastSeq();
      const r = (await mcp.callTool({ name: 'delete_pool', arguments: { poolid: 'prod' } })) as any;
      // the answer is the refusal, not APPROVAL_REQUIRED: no operator is asked for a call PVE would refuse
      assert.match(resultText(r), /^CONFLICT: Resource pool 'prod' is not empty: it holds guests 100/);
      assert.deepEqual(mutations(seq), []);
    } finally {
      simGuest(h.sim, 100).pool = undefined;
    }
  });

  test('REST DELETE takes the token in the X-Approval-Token header', async () => {
    const refused = await request(h.url).delete('/pools/prod').set(h.auth).expect(403);
    assert.equal(refused.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
    assert.equal(refused.body.details.tool, 'delete_pool');
    const token = await approve(refused.body.details.request_id);
    await request(h.url)
      .delete('/pools/prod')
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
    assert.ok(!h.sim.cluster.pools.has('prod'));
  });
});
