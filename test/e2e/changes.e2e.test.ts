import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { harnessSuite, resultText, simGuest, simRequests, toolCalls } from '../helpers/tools.js';

/** A guest's setting as PVE's GET …/config shows it: pending changes applied (a running VM takes some later). */
const effective = (
  g: { config: Record<string, unknown>; pending?: Record<string, unknown> },
  key: string,
) => {
  const value = g.pending?.[key] ?? g.config[key];
  return value === undefined ? undefined : `${value as string | number}`;
};

// The change journal (list_changes, revert_change) over MCP and REST against the schema-checked simulator
// (3 nodes, 12 guests: VMs on even indexes, containers on odd ones, guest 100+i on node pve(i%3+1)).
describe('change journal: list_changes and revert_change', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);

  harnessSuite(
    () => startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  let vmChange = 0;
  test('update_vm_config is journalled with the fields before and after; revert_change puts them back', async () => {
    const vm = simGuest(h.sim, 100);
    const memoryBefore = effective(vm, 'memory');
    assert.equal(vm.config.description, undefined);
    await ok('update_vm_config', { node: vm.node, vmid: 100, memory: 3072, description: 'web tier' });

    const list = await ok('list_changes', { vmid: 100 });
    assert.equal(list.total, 1);
    const [change] = list.changes;
    vmChange = change.id;
    assert.equal(change.tool, 'update_vm_config');
    assert.equal(change.kind, 'vm_config');
    assert.equal(change.path, `/nodes/${vm.node}/qemu/100/config`);
    assert.equal(change.vmid, 100);
    assert.deepEqual(change.fields, ['description', 'memory']);
    assert.deepEqual(Object.keys(change.before), ['memory']);
    assert.equal(String(change.before.memory), memoryBefore);
    assert.deepEqual(
      { ...change.after, memory: String(change.after.memory) },
      { description: 'web tier', memory: '3072' },
    );
    assert.ok(change.actor, 'the caller is recorded');
    const text = resultText(await call('list_changes', { vmid: 100 }));
    assert.match(
      text,
      new RegExp(
        `#${vmChange} .*update_vm_config .*description: \\(unset\\) -> web tier; memory: ${memoryBefore} -> 3072`,
      ),
    );

    // REST lists the same
    const rest = await request(h.url).get('/changes?vmid=100').set(h.auth).expect(200);
    assert.deepEqual(rest.body.changes, list.changes);

    const seq = lastSeq();
    const r = await call('revert_change', { id: vmChange });
    assert.equal(r.isError, undefined, resultText(r));
    const digest = h.sim.requests.filter((q) => q.seq > seq && q.method === 'GET').length > 0;
    assert.ok(digest, 'the object is read before the revert');
    const [put] = changes(seq);
    assert.match(put, new RegExp(`^PUT /nodes/${vm.node}/qemu/100/config `));
    const body = JSON.parse(put.slice(put.indexOf('{')));
    assert.equal(body.memory, String(memoryBefore));
    assert.equal(body.delete, 'description');
    assert.match(body.digest, /^[0-9a-f]{40}$/, 'the revert carries the config digest');
    assert.equal(effective(vm, 'memory'), memoryBefore);
    assert.equal(effective(vm, 'description'), undefined);
    assert.deepEqual(r.structuredContent.fields, ['description', 'memory']);
    assert.equal(String(r.structuredContent.restored.memory), memoryBefore);
    assert.match(resultText(r), new RegExp(`^Change #${vmChange} reverted on vm_config`));

    // the revert is journalled and linked both ways; a second revert of the same change is refused
    const after = await ok('list_changes', { vmid: 100 });
    assert.equal(after.changes[0].tool, 'revert_change');
    assert.equal(after.changes[0].revert_of, vmChange);
    assert.equal(after.changes[1].reverted_by, after.changes[0].id);
    assert.equal(r.structuredContent.change_id, after.changes[0].id);
    await fails('revert_change', { id: vmChange }, 'CONFLICT', /already reverted by change/);
  });

  test('revert refused when the object changed since: CONFLICT names the field, nothing is sent', async () => {
    const vm = simGuest(h.sim, 102);
    await ok('update_vm_config', { node: vm.node, vmid: 102, cores: 2 });
    const [first] = (await ok('list_changes', { vmid: 102 })).changes;
    await ok('update_vm_config', { node: vm.node, vmid: 102, cores: 4 });
    const seq = lastSeq();
    await fails('revert_change', { id: first.id }, 'CONFLICT', /changed since in cores \(left 2, now 4\)/);
    assert.deepEqual(changes(seq), [], 'nothing sent');
    // REST: 409 with the field
    const res = await request(h.url).post(`/changes/${first.id}/revert`).set(h.auth).expect(409);
    assert.match(JSON.stringify(res.body), /cores/);
    // reverting the newest first works, then the older one
    const [second] = (await ok('list_changes', { vmid: 102 })).changes;
    await ok('revert_change', { id: second.id });
    assert.equal(effective(vm, 'cores'), '2');
    await ok('revert_change', { id: first.id });
    assert.equal(
      effective(vm, 'cores'),
      first.before.cores === undefined ? undefined : String(first.before.cores),
    );
  });

  test('revert refusals: unknown id, bad id, an id of another target', async () => {
    await fails('revert_change', { id: 999999 }, 'NOT_FOUND', /not in the change journal/);
    await fails('revert_change', { id: 'x' }, 'VALIDATION', /id/);
    await request(h.url).post('/changes/0/revert').set(h.auth).expect(400);
    await fails('list_changes', { kind: 'disk' }, 'VALIDATION', /kind/);
  });

  test('a container edit (update_container_resources) is journalled and reverted over REST', async () => {
    const ct = simGuest(h.sim, 103);
    const coresBefore = effective(ct, 'cores');
    await ok('update_container_resources', { selector: '103', cores: 3 });
    const [change] = (await ok('list_changes', { vmid: 103 })).changes;
    assert.equal(change.kind, 'container_config');
    assert.equal(change.tool, 'update_container_resources');
    assert.equal(String(change.after.cores), '3');
    const res = await request(h.url).post(`/changes/${change.id}/revert`).set(h.auth).expect(200);
    assert.equal(res.body.reverted_change_id, change.id);
    assert.equal(effective(ct, 'cores'), coresBefore);
  });

  test('firewall rule: an update_firewall_rule is reverted (the rule is as before)', async () => {
    await ok('add_firewall_rule', {
      scope: 'cluster',
      type: 'in',
      action: 'ACCEPT',
      proto: 'tcp',
      dport: '22',
      comment: 'ssh',
    });
    await ok('update_firewall_rule', { scope: 'cluster', pos: 0, dport: '2222', comment: '' });
    const [change] = (await ok('list_changes', { kind: 'firewall_rule' })).changes;
    assert.equal(change.tool, 'update_firewall_rule');
    assert.deepEqual(change.fields, ['comment', 'dport']);
    const seq = lastSeq();
    await ok('revert_change', { id: change.id });
    const [put] = changes(seq);
    assert.match(put, /^PUT \/cluster\/firewall\/rules\/0 /);
    const rule = (await ok('list_firewall_rules', { scope: 'cluster' })).rules[0];
    assert.equal(rule.dport, '22');
    assert.equal(rule.comment, 'ssh');
  });

  test('firewall options: set_firewall_options is reverted', async () => {
    const before = await ok('get_firewall_options', { scope: 'vm', vmid: 100 });
    await ok('set_firewall_options', { scope: 'vm', vmid: 100, enable: !before.options.enable });
    const [change] = (await ok('list_changes', { kind: 'firewall_options' })).changes;
    assert.equal(change.vmid, 100);
    await ok('revert_change', { id: change.id });
    const now = await ok('get_firewall_options', { scope: 'vm', vmid: 100 });
    assert.equal(now.options.enable, before.options.enable);
  });

  test('HA resource: update_ha_resource is reverted', async () => {
    await ok('add_ha_resource', { vmid: 104, max_restart: 1 });
    await ok('update_ha_resource', { vmid: 104, max_restart: 3, comment: 'db' });
    const [change] = (await ok('list_changes', { kind: 'ha_resource' })).changes;
    assert.equal(change.vmid, 104);
    assert.deepEqual(change.fields, ['comment', 'max_restart']);
    await ok('revert_change', { id: change.id });
    const resource = (await ok('list_ha_resources')).resources.find((r: any) => r.vmid === 104);
    assert.equal(resource.max_restart, 1);
    assert.equal(resource.comment, undefined);
  });

  test('backup job: update_backup_job is reverted', async () => {
    const created = await ok('create_backup_job', {
      schedule: 'daily',
      storage: 'nas',
      vmids: [100],
      id: 'undo-job',
    });
    assert.equal(created.job.id, 'undo-job');
    await ok('update_backup_job', { id: 'undo-job', schedule: 'sun 01:00', comment: 'weekly' });
    const [change] = (await ok('list_changes', { kind: 'backup_job', tool: 'update_backup_job' })).changes;
    assert.ok(change.fields.includes('schedule'));
    await ok('revert_change', { id: change.id });
    const job = (await ok('list_backup_jobs')).jobs.find((j: any) => j.id === 'undo-job');
    assert.equal(job.schedule, 'daily');
    assert.equal(job.comment, undefined);
  });
});
