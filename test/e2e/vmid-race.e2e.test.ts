import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { toolCalls, harnessSuite } from '../helpers/tools.js';

const ISO = 'nas:iso/debian-12.7.0-amd64-netinst.iso';
const TEMPLATE = 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

/**
 * /cluster/nextid reserves nothing: between the allocator's check and the POST, a create elsewhere (the PVE UI,
 * another agent) can take the id. PVE then refuses with "VM 170 already exists on node …". The four tools that
 * make a guest report that race the same way (guests/vmid-allocator.ts): CONFLICT, nothing made, call again.
 */
describe('a vmid taken between the check and the create', () => {
  let h: Harness;
  let mcp: Client;
  const { fails } = toolCalls(() => mcp);

  harnessSuite(
    () => startHarness({ nodes: 2, guests: 8, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  /** The next POST to `path` is answered as PVE answers a create into a taken id. */
  const takenOnce = (path: RegExp, id: number, kind: 'VM' | 'CT') =>
    h.sim.faults.add({
      match: { method: 'POST', path },
      mode: 'status',
      status: 500,
      message: `${kind} ${id} already exists on node 'pve2'`,
      times: 1,
    });
  /** A seeded guest to clone; a stopped one, since PVE copies a running container only from a snapshot. */
  const source = (type: 'qemu' | 'lxc') => {
    const guest = [...h.sim.cluster.guests()].find(
      (g) => g.type === type && !g.template && g.status === 'stopped',
    );
    assert.ok(guest, `a seeded ${type} guest`);
    return guest;
  };

  test('create_vm and create_container: CONFLICT naming the id, nothing created, call again without vmid', async () => {
    takenOnce(/^\/nodes\/pve1\/qemu$/, 170, 'VM');
    await fails(
      'create_vm',
      { node: 'pve1', vmid: 170, name: 'raced', iso: ISO },
      'CONFLICT',
      /VM ID 170 was taken meanwhile; nothing was created[\s\S]*create_vm again \(without vmid/,
    );
    takenOnce(/^\/nodes\/pve1\/lxc$/, 171, 'CT');
    await fails(
      'create_container',
      { node: 'pve1', vmid: 171, ostemplate: TEMPLATE, hostname: 'raced', password: 'a-long-password-1' },
      'CONFLICT',
      /ID 171 was taken meanwhile; nothing was created[\s\S]*create_container again \(without vmid/,
    );
    assert.equal(h.sim.cluster.guest(170), undefined);
    assert.equal(h.sim.cluster.guest(171), undefined);
  });

  test('clone_vm and clone_container: the same CONFLICT, worded for the clone', async () => {
    const vm = source('qemu');
    takenOnce(new RegExp(`^/nodes/${vm.node}/qemu/${vm.vmid}/clone$`), 172, 'VM');
    await fails(
      'clone_vm',
      { node: vm.node, source_vmid: vm.vmid, target_vmid: 172 },
      'CONFLICT',
      /ID 172 was taken meanwhile; nothing was cloned[\s\S]*clone_vm again \(without target_vmid/,
    );
    const ct = source('lxc');
    takenOnce(new RegExp(`^/nodes/${ct.node}/lxc/${ct.vmid}/clone$`), 173, 'CT');
    await fails(
      'clone_container',
      { node: ct.node, source_vmid: ct.vmid, target_vmid: 173 },
      'CONFLICT',
      /ID 173 was taken meanwhile; nothing was cloned[\s\S]*clone_container again \(without target_vmid/,
    );
  });
});
