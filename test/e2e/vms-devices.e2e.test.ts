import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { resultText } from '../helpers/tools.js';
import { simulatorSuite } from '../helpers/suite.js';

const DEBIAN = 'nas:iso/debian-12.7.0-amd64-netinst.iso';
const UBUNTU = 'nas:iso/ubuntu-24.04.1-live-server-amd64.iso';

/**
 * What the VM tools gained with the reference's 0.6: set_vm_description, and update_vm_config's iso_volume /
 * cdrom_device / boot_order / network_bridge; create_vm's boot_order and pool, clone_vm's pool checked. Over MCP and
 * REST against the schema-checked simulator. Seeded: VM 104 stopped (ide2 holds the Debian ISO), VM 108 a
 * template, VM 100 running; pools prod and lab; bridges vmbr0 and vmbr1 on every node.
 */
describe('VM notes, CD-ROM, boot order, bridge and pools against the simulator', () => {
  // started before the tests (MCP client listed the tools), closed after them (fails on any refused request)
  const suite = simulatorSuite({ nodes: 3, guests: 12, taskSeconds: 0 });
  const { call, ok, fails, lastSeq, mutations, guest } = suite;

  test('tools/list: set_vm_description; update_vm_config and create_vm take the reference argument names', async () => {
    const { tools } = await suite.mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get('set_vm_description')?.annotations?.readOnlyHint, false);
    const update = byName.get('update_vm_config')!.inputSchema as any;
    for (const arg of ['iso_volume', 'cdrom_device', 'boot_order', 'network_bridge']) {
      assert.ok(update.properties[arg], `update_vm_config takes ${arg}`);
    }
    const create = byName.get('create_vm')!.inputSchema as any;
    for (const arg of ['boot_order', 'pool']) assert.ok(create.properties[arg], `create_vm takes ${arg}`);
  });

  test('set_vm_description sets and removes the notes; get_vm_config shows them; REST route', async () => {
    const node = guest(104).node;
    const r = await call('set_vm_description', { node, vmid: 104, description: 'database, do not reboot' });
    assert.equal(r.isError, undefined, resultText(r));
    assert.match(resultText(r), /^Notes of VM 104 on pve\d set/);
    assert.equal(guest(104).config.description, 'database, do not reboot');
    assert.equal((await ok('get_vm_config', { node, vmid: 104 })).description, 'database, do not reboot');
    await request(suite.h.url)
      .put(`/nodes/${node}/vms/104/description`)
      .set(suite.h.auth)
      .send({ description: '' })
      .expect(200)
      .expect((res) => assert.equal(res.body.cleared, true));
    assert.equal(guest(104).config.description, undefined);
    await fails('set_vm_description', { node, vmid: 103, description: 'x' }, 'NOT_FOUND', /VM 103 not found/);
    await fails('set_vm_description', { node, vmid: 104, description: 7 }, 'VALIDATION', /description/);
  });

  test('update_vm_config: attach another ISO to the CD-ROM drive, eject it, set the boot order, move net0', async () => {
    const node = guest(104).node;
    assert.match(String(guest(104).config.ide2), /^nas:iso\/debian/);
    const attach = await ok('update_vm_config', { node, vmid: 104, iso_volume: UBUNTU });
    assert.deepEqual(attach.updated, ['ide2']);
    assert.match(
      String(guest(104).config.ide2),
      /^nas:iso\/ubuntu-24\.04\.1-live-server-amd64\.iso,media=cdrom/,
    );

    await ok('update_vm_config', { node, vmid: 104, iso_volume: 'none' });
    assert.equal(guest(104).config.ide2, 'none,media=cdrom');

    const boot = await ok('update_vm_config', { node, vmid: 104, boot_order: 'ide2;scsi0;net0' });
    assert.deepEqual(boot.updated, ['boot']);
    assert.equal(guest(104).config.boot, 'order=ide2;scsi0;net0');

    const mac = /virtio=([^,]+)/.exec(String(guest(104).config.net0))?.[1];
    await request(suite.h.url)
      .put(`/nodes/${node}/vms/104/config`)
      .set(suite.h.auth)
      .send({ network_bridge: 'vmbr1', iso_volume: DEBIAN, cdrom_device: 'ide2' })
      .expect(200);
    const net0 = String(guest(104).config.net0);
    assert.match(net0, /bridge=vmbr1/);
    assert.match(net0, new RegExp(`virtio=${mac}`), 'the MAC is kept');
    assert.match(net0, /firewall=1/);
    assert.match(String(guest(104).config.ide2), /^nas:iso\/debian/);
  });

  test('update_vm_config on a running VM: a new medium in its CD-ROM drive takes effect at once', async () => {
    const vm = guest(100);
    assert.equal(vm.status, 'running');
    const r = await ok('update_vm_config', { node: vm.node, vmid: 100, iso_volume: UBUNTU });
    assert.deepEqual(r.updated, ['ide2']);
    assert.deepEqual(r.pending, [], 'a CD-ROM medium change is hot-plugged');
    assert.match(String(vm.config.ide2), /ubuntu/);
  });

  test('update_vm_config: a new CD-ROM drive on a free slot; a disk or the cloud-init drive is never replaced', async () => {
    const node = guest(104).node;
    await ok('update_vm_config', { node, vmid: 104, iso_volume: UBUNTU, cdrom_device: 'ide3' });
    assert.match(String(guest(104).config.ide3), /ubuntu.*media=cdrom/);

    guest(104).config.ide0 = `local-lvm:vm-104-cloudinit,media=cdrom`;
    guest(104).config.sata1 = `local-lvm:vm-104-disk-1,size=4G`;
    const mark = lastSeq();
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: UBUNTU, cdrom_device: 'ide0' },
      'VALIDATION',
      /ide0 of VM 104 is the cloud-init drive/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: UBUNTU, cdrom_device: 'sata1' },
      'VALIDATION',
      /sata1 of VM 104 is a disk/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: UBUNTU, cdrom_device: 'scsi0' },
      'VALIDATION',
      /ide0-ide3, sata0-sata5/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: 'nas:iso/missing.iso' },
      'NOT_FOUND',
      /nas:iso\/missing\.iso is not on storage 'nas'/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: 'local-lvm:iso/x.iso' },
      'VALIDATION',
      /storage 'local-lvm' does not hold ISO images on node pve\d.*ISO storages on pve\d: local, nas/s,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: 'nope:iso/x.iso' },
      'NOT_FOUND',
      /storage 'nope' does not exist/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, iso_volume: 'nas:vztmpl/x.tar.zst' },
      'VALIDATION',
      /ISO volume id/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, cdrom_device: 'ide3' },
      'VALIDATION',
      /cdrom_device goes with iso_volume/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, boot_order: 'scsi0;scsi5;net0' },
      'VALIDATION',
      /VM 104 has no scsi5; its devices are/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, boot_order: 'scsi0;floppy0' },
      'VALIDATION',
      /'floppy0' is not a boot device/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, boot_order: 'scsi0;scsi0' },
      'VALIDATION',
      /listed twice/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, boot_order: 'rm -rf' },
      'VALIDATION',
      /devices separated by ";"/,
    );
    await fails(
      'update_vm_config',
      { node, vmid: 104, network_bridge: 'vmbr7' },
      'VALIDATION',
      /no bridge 'vmbr7'.*vmbr0, vmbr1/s,
    );
    assert.deepEqual(mutations(mark), [], 'nothing was changed');
    delete guest(104).config.ide0;
    delete guest(104).config.sata1;
  });

  test('create_vm: boot_order over the devices it makes, into a pool; a missing pool or device is refused first', async () => {
    const job = await ok('create_vm', {
      node: 'pve1',
      vmid: 950,
      name: 'installer',
      iso: DEBIAN,
      boot_order: 'ide2;scsi0',
      pool: 'lab',
      wait: true,
    });
    assert.equal(job.status, 'completed');
    assert.equal(guest(950).config.boot, 'order=ide2;scsi0');
    assert.equal(guest(950).pool, 'lab');

    // the reference's names: iso_volume on cdrom_device
    const ref = await ok('create_vm', {
      node: 'pve1',
      vmid: 951,
      name: 'installer2',
      iso_volume: UBUNTU,
      cdrom_device: 'ide3',
      boot_order: 'ide3;scsi0;net0',
      wait: true,
    });
    assert.equal(ref.status, 'completed');
    assert.match(String(guest(951).config.ide3), /^nas:iso\/ubuntu.*media=cdrom/);
    assert.equal(guest(951).config.ide2, undefined);
    assert.equal(guest(951).config.boot, 'order=ide3;scsi0;net0');

    const mark = lastSeq();
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x', iso: DEBIAN, iso_volume: UBUNTU },
      'VALIDATION',
      /iso and iso_volume are the same setting/,
    );
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x', cdrom_device: 'ide3' },
      'VALIDATION',
      /cdrom_device goes with iso/,
    );
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x', iso: DEBIAN, cdrom_device: 'ide0', ciuser: 'ops' },
      'VALIDATION',
      /ide0 holds the cloud-init drive/,
    );
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x', pool: 'nope' },
      'NOT_FOUND',
      /no resource pool 'nope'.*lab, prod/s,
    );
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x', boot_order: 'ide2;scsi0' },
      'VALIDATION',
      /the new VM has no ide2/,
    );
    assert.deepEqual(mutations(mark), []);
  });

  test('clone_vm: the pool must exist; an existing one gets the clone', async () => {
    const node = guest(108).node;
    const mark = lastSeq();
    await fails('clone_vm', { node, source_vmid: 108, pool: 'nope' }, 'NOT_FOUND', /no resource pool 'nope'/);
    assert.deepEqual(mutations(mark), []);
    const job = await ok('clone_vm', { node, source_vmid: 108, target_vmid: 960, pool: 'prod', wait: true });
    assert.equal(job.status, 'completed');
    assert.equal(guest(960).pool, 'prod');
  });
});
