import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, startSim, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

describe('simulator: seeded cluster state in PVE shapes', () => {
  let sim: PveSimulator;
  let api: SimClient;

  simulatorApiSuite({ nodes: 3, guests: 12 }, (started) => ({ sim, api } = started));

  test('/cluster/resources lists guests, nodes and storage with the captured field sets', async () => {
    const items: Json[] = await api.data('/cluster/resources');
    const guests = items.filter((i) => i.type === 'qemu' || i.type === 'lxc');
    assert.equal(guests.length, 12);
    assert.ok(guests.some((g) => g.type === 'qemu') && guests.some((g) => g.type === 'lxc'));
    assert.deepEqual(
      guests.map((g) => g.vmid),
      Array.from({ length: 12 }, (_, i) => 100 + i),
    );
    for (const g of guests) {
      assert.equal(g.id, `${g.type}/${g.vmid}`);
      assert.equal(typeof g.vmid, 'number');
      assert.ok(['running', 'stopped'].includes(g.status));
      for (const key of [
        'name',
        'node',
        'maxcpu',
        'maxmem',
        'maxdisk',
        'cpu',
        'mem',
        'uptime',
        'netin',
        'diskread',
      ]) {
        assert.ok(key in g, `${g.id} has ${key}`);
      }
      // VM 108 is the seeded template
      assert.equal(g.template, g.vmid === 108 ? 1 : 0);
    }
    assert.deepEqual(
      items.filter((i) => i.type === 'node').map((n) => [n.id, n.status]),
      [
        ['node/pve1', 'online'],
        ['node/pve2', 'online'],
        ['node/pve3', 'online'],
      ],
    );
    const nas = items.find((i) => i.id === 'storage/pve2/nas');
    assert.equal(nas.shared, 1);
    assert.equal(nas.plugintype, 'nfs');
    assert.equal(nas.status, 'available');
    assert.ok(nas.maxdisk > nas.disk);
    const vmOnly: Json[] = await api.data('/cluster/resources?type=vm');
    assert.ok(vmOnly.every((i) => i.type === 'qemu' || i.type === 'lxc'));
    assert.equal(vmOnly.length, 12);
    const storageOnly: Json[] = await api.data('/cluster/resources?type=storage');
    assert.equal(storageOnly.length, 9, '3 storages × 3 nodes');
  });

  test('/cluster/status has the cluster entry and one entry per node; /nodes lists the nodes', async () => {
    const status: Json[] = await api.data('/cluster/status');
    assert.deepEqual(status[0], {
      type: 'cluster',
      id: 'cluster',
      name: 'simcluster',
      nodes: 3,
      quorate: 1,
      version: 4,
    });
    assert.deepEqual(status[1], {
      type: 'node',
      id: 'node/pve1',
      name: 'pve1',
      nodeid: 1,
      local: 1,
      online: 1,
      ip: '10.10.0.11',
      level: '',
    });
    assert.equal(status.filter((s) => s.type === 'node' && s.local === 0).length, 2);
    const nodes: Json[] = await api.data('/nodes');
    assert.deepEqual(
      nodes.map((n) => n.node),
      ['pve1', 'pve2', 'pve3'],
    );
    assert.match(nodes[0].ssl_fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  test('/cluster/nextid answers a JSON string; a taken vmid is a 400', async () => {
    const res = await api.get('/cluster/nextid');
    assert.equal(res.text, '{"data":"112"}');
    assert.equal((await api.get('/cluster/nextid?vmid=500')).json.data, '500');
    const taken = await api.get('/cluster/nextid?vmid=105');
    assert.equal(taken.status, 400);
    assert.deepEqual(taken.json.errors, { vmid: 'VM 105 already exists' });
  });

  test('node status has the real nested shape (cpuinfo, memory, rootfs, loadavg strings)', async () => {
    const s = await api.data('/nodes/pve1/status');
    assert.ok(s.cpuinfo.cpus > 0 && s.cpuinfo.cores > 0 && s.cpuinfo.sockets > 0);
    assert.equal(typeof s.cpuinfo.mhz, 'string');
    assert.equal(s.memory.total, s.memory.used + s.memory.free);
    assert.equal(s.rootfs.total, s.rootfs.used + s.rootfs.avail);
    assert.equal(s.loadavg.length, 3);
    assert.ok(s.loadavg.every((l: unknown) => typeof l === 'string'));
    assert.match(s.pveversion, /^pve-manager\/9\.1\.\d+\//);
    assert.match(s.kversion, /^Linux /);
    assert.equal(s['current-kernel'].sysname, 'Linux');
    assert.ok(s.uptime > 0);
  });

  test('guest lists and configs: realistic configs with a digest; a vmid on another node is a 500', async () => {
    const vms: Json[] = await api.data('/nodes/pve1/qemu');
    assert.ok(vms.length > 0);
    const vm = vms[0];
    const config = await api.data(`/nodes/pve1/qemu/${vm.vmid}/config`);
    assert.match(config.digest, /^[0-9a-f]{40}$/);
    assert.match(config.net0, /^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0/);
    assert.match(config.scsi0, new RegExp(`^local-lvm:vm-${vm.vmid}-disk-0,`));
    for (const key of ['name', 'cores', 'sockets', 'memory', 'ostype', 'agent', 'boot'])
      assert.ok(key in config, key);

    const cts: Json[] = await api.data('/nodes/pve2/lxc');
    const ct = await api.data(`/nodes/pve2/lxc/${cts[0].vmid}/config`);
    assert.match(ct.net0, /^name=eth0,bridge=vmbr0,.*ip=/);
    assert.match(ct.rootfs, /^local-lvm:vm-\d+-disk-0,size=\d+G$/);
    for (const key of ['hostname', 'cores', 'memory', 'swap', 'ostype', 'unprivileged', 'digest'])
      assert.ok(key in ct, key);
    assert.equal(cts[0].type, 'lxc');

    const missing = await api.get('/nodes/pve1/qemu/999/config');
    assert.equal(missing.status, 500);
    assert.equal(missing.reason, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist");
    assert.equal(
      missing.json.message,
      "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n",
    );
    const wrongNode = await api.get(`/nodes/pve3/qemu/${vm.vmid}/config`);
    assert.equal(
      wrongNode.reason,
      `Configuration file 'nodes/pve3/qemu-server/${vm.vmid}.conf' does not exist`,
    );
    const wrongType = await api.get(`/nodes/pve1/lxc/${vm.vmid}/status/current`);
    assert.equal(wrongType.reason, `Configuration file 'nodes/pve1/lxc/${vm.vmid}.conf' does not exist`);
  });

  test('an unknown node name fails like PVE’s DNS fallback', async () => {
    const res = await api.get('/nodes/pve9/status');
    assert.equal(res.status, 500);
    assert.equal(
      res.reason,
      "hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known",
    );
  });

  test('running containers report lo + eth0 with addresses; stopped ones report null', async () => {
    const cts = [...sim.cluster.guests()].filter((g) => g.type === 'lxc');
    const running = cts.find((g) => g.status === 'running')!;
    const stopped = cts.find((g) => g.status === 'stopped')!;
    const ifaces: Json[] = await api.data(`/nodes/${running.node}/lxc/${running.vmid}/interfaces`);
    assert.deepEqual(
      ifaces.map((i) => i.name),
      ['lo', 'eth0'],
    );
    assert.match(ifaces[1].inet, /^10\.20\.\d+\.\d+\/16$/);
    assert.match(ifaces[1].hwaddr, /^bc:24:11(:[0-9a-f]{2}){3}$/);
    assert.match(ifaces[1].inet6, /^fe80::/);
    assert.equal(await api.data(`/nodes/${stopped.node}/lxc/${stopped.vmid}/interfaces`), null);
  });

  test('status/current and rrddata for both guest types', async () => {
    const vm = [...sim.cluster.guests()].find((g) => g.type === 'qemu' && g.status === 'running')!;
    const cur = await api.data(`/nodes/${vm.node}/qemu/${vm.vmid}/status/current`);
    assert.equal(cur.status, 'running');
    assert.equal(cur.qmpstatus, 'running');
    assert.equal(cur.agent, 1);
    assert.ok(cur.uptime > 0 && cur.pid > 0);
    const rrd: Json[] = await api.data(`/nodes/${vm.node}/qemu/${vm.vmid}/rrddata?timeframe=day`);
    assert.equal(rrd.length, 70);
    assert.equal(rrd[1].time - rrd[0].time, 1800);
    assert.ok('cpu' in rrd[0] && 'maxmem' in rrd[0]);
    const ct = [...sim.cluster.guests()].find((g) => g.type === 'lxc')!;
    const ctStatus = await api.data(`/nodes/${ct.node}/lxc/${ct.vmid}/status/current`);
    assert.equal(ctStatus.type, 'lxc');
    assert.ok('maxswap' in ctStatus);
    assert.equal((await api.data(`/nodes/${ct.node}/lxc/${ct.vmid}/rrddata?timeframe=hour`)).length, 70);
  });

  test('storage: storage.cfg list, per-node usage with content filter, status, content items', async () => {
    const cfg: Json[] = await api.data('/storage');
    assert.deepEqual(
      cfg.map((s) => [s.storage, s.type, s.content, s.shared]),
      [
        ['local', 'dir', 'iso,vztmpl,backup', undefined],
        ['local-lvm', 'lvmthin', 'images,rootdir', undefined],
        ['nas', 'nfs', 'iso,backup,vztmpl,images', 1],
      ],
    );
    assert.ok(cfg.every((s) => /^[0-9a-f]{40}$/.test(s.digest)));
    const isoStores: Json[] = await api.data('/nodes/pve1/storage?content=iso');
    assert.deepEqual(
      isoStores.map((s) => s.storage),
      ['local', 'nas'],
    );
    for (const s of isoStores) {
      assert.equal(s.total, s.used + s.avail);
      assert.equal(s.used_fraction, s.used / s.total);
      assert.equal(s.active, 1);
      assert.equal(s.enabled, 1);
    }
    const status = await api.data('/nodes/pve1/storage/local-lvm/status');
    assert.equal(status.type, 'lvmthin');
    const noSuch = await api.get('/nodes/pve1/storage/nope/status');
    assert.deepEqual(noSuch.json.errors, { storage: 'No such storage.' });

    const backups: Json[] = await api.data('/nodes/pve1/storage/nas/content?content=backup');
    assert.ok(backups.length >= 2);
    for (const b of backups) {
      assert.match(
        b.volid,
        /^nas:backup\/vzdump-(qemu|lxc)-\d+-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.(vma|tar)\.zst$/,
      );
      assert.equal(b.content, 'backup');
      assert.equal(b.subtype, b.volid.includes('-qemu-') ? 'qemu' : 'lxc');
      assert.ok(b.ctime > 0 && b.size > 0 && typeof b.notes === 'string');
    }
    assert.ok(backups.some((b) => b.protected === 1));
    const forVm: Json[] = await api.data('/nodes/pve1/storage/nas/content?vmid=100');
    assert.ok(forVm.length > 0 && forVm.every((v) => v.vmid === 100));
    const templates: Json[] = await api.data('/nodes/pve1/storage/nas/content?content=vztmpl');
    assert.ok(templates.every((t) => t.format === 'tzst'));
    const isos: Json[] = await api.data('/nodes/pve1/storage/nas/content?content=iso');
    assert.ok(isos.length >= 2 && isos.every((i) => i.format === 'iso'));
    const disks: Json[] = await api.data('/nodes/pve1/storage/local-lvm/content');
    assert.deepEqual(
      disks.map((d) => d.vmid),
      sim.cluster.guestsOn('pve1').map((g) => g.vmid),
    );
  });

  test('network: bridges vmbr0/vmbr1 per node, type filter any_bridge', async () => {
    const all: Json[] = await api.data('/nodes/pve2/network');
    assert.ok(all.some((i) => i.type === 'eth'));
    const bridges: Json[] = await api.data('/nodes/pve2/network?type=any_bridge');
    assert.deepEqual(
      bridges.map((b) => b.iface),
      ['vmbr0', 'vmbr1'],
    );
    assert.equal(bridges[0].cidr, '10.10.0.12/24');
    assert.deepEqual(bridges[0].families, ['inet']);
    assert.equal(bridges[0].bridge_ports, 'eno1');
  });

  test('seeded roles: agent VM with snapshots, stopped VM, agent not running, template, protected VM', async () => {
    const item = async (vmid: number) =>
      ((await api.data('/cluster/resources?type=vm')) as Json[]).find((r) => r.vmid === vmid);
    assert.equal((await item(100)).status, 'running');
    assert.deepEqual((await api.post('/nodes/pve1/qemu/100/agent/ping')).json, { data: { result: {} } });
    const snaps: Json[] = await api.data('/nodes/pve1/qemu/100/snapshot');
    assert.deepEqual(
      snaps.map((s) => [s.name, s.parent]),
      [
        ['before-upgrade', undefined],
        ['after-upgrade', 'before-upgrade'],
        ['current', 'after-upgrade'],
      ],
    );
    assert.equal((await api.data('/nodes/pve2/lxc/101/snapshot'))[0].name, 'initial');
    assert.equal((await item(104)).status, 'stopped');
    assert.equal((await item(106)).status, 'running');
    assert.equal(
      (await api.post('/nodes/pve1/qemu/106/agent/ping')).reason,
      'QEMU guest agent is not running',
    );
    assert.deepEqual([(await item(108)).template, (await item(108)).status], [1, 'stopped']);
    assert.match((await api.data('/nodes/pve3/qemu/108/config')).scsi0, /^local-lvm:base-108-disk-0,/);
    assert.equal((await api.data('/nodes/pve2/qemu/110/config')).protection, 1);
  });

  test('the same seed builds the same cluster', async () => {
    const other = await startSim({ nodes: 3, guests: 12 });
    try {
      const a: Json[] = await api.data('/nodes/pve1/qemu/100/config');
      const b: Json[] = await other.api.data('/nodes/pve1/qemu/100/config');
      assert.deepEqual(a, b);
    } finally {
      await other.close();
    }
  });
});

describe('simulator: standalone node', () => {
  test('/cluster/status has a single node entry (nodeid 0, local) and no cluster entry', async () => {
    const { api, close } = await startSim({ standalone: true, guests: 2 });
    try {
      const status: Json[] = await api.data('/cluster/status');
      assert.deepEqual(status, [
        {
          type: 'node',
          id: 'node/pve1',
          name: 'pve1',
          nodeid: 0,
          local: 1,
          online: 1,
          ip: '10.10.0.11',
          level: '',
        },
      ]);
      assert.equal((await api.data('/nodes')).length, 1);
    } finally {
      await close();
    }
  });
});
