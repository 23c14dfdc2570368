import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { resultText } from '../helpers/tools.js';
import { simulatorSuite } from '../helpers/suite.js';

const TEMPLATE = 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

/**
 * The container tools the reference gained in 0.6 (set_container_description, update_container_network,
 * clone_container) and the new create_container arguments (ip6, gw6, gw, pool), over MCP and REST against the
 * schema-checked simulator. Seeded (3 nodes, 12 guests): CT 101 pve2 running (snapshot initial, DHCP), CT 103 pve1
 * stopped, CT 105 pve3 running with a static address; VM 100 pve1; pools prod and lab; bridges vmbr0, vmbr1.
 */
describe('container notes, network and clone against the simulator', () => {
  // started before the tests (MCP client listed the tools), closed after them (fails on any refused request)
  const suite = simulatorSuite({ nodes: 3, guests: 12, taskSeconds: 0 });
  const { call, ok, fails, lastSeq, mutations, guest } = suite;

  test('tools/list: the three tools, mutating and not destructive, with the reference argument names', async () => {
    const { tools } = await suite.mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['set_container_description', 'update_container_network', 'clone_container']) {
      const tool = byName.get(name);
      assert.ok(tool, `${name} is listed`);
      assert.equal(tool.annotations?.readOnlyHint, false);
      assert.equal(tool.annotations?.destructiveHint, false);
    }
    const net = byName.get('update_container_network')!.inputSchema as any;
    for (const arg of ['node', 'vmid', 'interface', 'network_bridge', 'ip', 'gw', 'ip6', 'gw6']) {
      assert.ok(net.properties[arg], `update_container_network takes ${arg}`);
    }
    const clone = byName.get('clone_container')!.inputSchema as any;
    for (const arg of [
      'node',
      'source_vmid',
      'target_vmid',
      'hostname',
      'target_node',
      'full',
      'storage',
      'pool',
      'snapname',
    ]) {
      assert.ok(clone.properties[arg], `clone_container takes ${arg}`);
    }
    const create = byName.get('create_container')!.inputSchema as any;
    for (const arg of ['ip6', 'gw6', 'gw', 'pool'])
      assert.ok(create.properties[arg], `create_container takes ${arg}`);
  });

  test('set_container_description replaces the notes, get_container_config shows them; "" removes them', async () => {
    const set = await ok('set_container_description', {
      node: 'pve1',
      vmid: 103,
      description: '# build box\nowner: ops',
    });
    assert.equal(set.cleared, false);
    assert.equal(guest(103).config.description, '# build box\nowner: ops');
    const config = await ok('get_container_config', { node: 'pve1', vmid: 103 });
    assert.equal(config.description, '# build box\nowner: ops');

    const cleared = await call('set_container_description', { node: 'pve1', vmid: 103, description: '' });
    assert.match(resultText(cleared), /^Notes of Container 103 on pve1 removed/);
    assert.equal(guest(103).config.description, undefined);

    await fails(
      'set_container_description',
      { node: 'pve1', vmid: 100, description: 'x' },
      'NOT_FOUND',
      /Container 100 not found on node pve1/,
    );
    await fails('set_container_description', { node: 'pve1', vmid: 103 }, 'VALIDATION', /description/);
    await fails(
      'set_container_description',
      { node: 'pve1', vmid: 103, description: 'x'.repeat(8193) },
      'VALIDATION',
      /at most 8192 characters/,
    );
    await fails(
      'set_container_description',
      { node: 'pve1', vmid: 103, description: 'a\u0000b' },
      'VALIDATION',
      /control characters other than newline and tab/,
    );
    const stale = await ok('get_container_config', { node: 'pve1', vmid: 103 });
    await ok('set_container_description', { node: 'pve1', vmid: 103, description: 'first' });
    await fails(
      'set_container_description',
      { node: 'pve1', vmid: 103, description: 'second', digest: stale.digest },
      'CONFLICT',
      /changed since the digest was read/,
    );
    assert.equal(guest(103).config.description, 'first');

    await request(suite.h.url)
      .put('/nodes/pve1/containers/103/description')
      .set(suite.h.auth)
      .send({ description: 'via REST' })
      .expect(200);
    assert.equal(guest(103).config.description, 'via REST');
  });

  test('update_container_network: static IPv4 and IPv6 on net0, MAC, VLAN and firewall kept', async () => {
    const before = String(guest(103).config.net0);
    const mac = /hwaddr=([^,]+)/.exec(before)?.[1];
    const r = await ok('update_container_network', {
      node: 'pve1',
      vmid: 103,
      ip: '10.50.0.7/24',
      gw: '10.50.0.1',
      ip6: 'fd00:50::7/64',
      gw6: 'fd00:50::1',
    });
    assert.equal(r.interface, 'net0');
    assert.equal(r.previous, before);
    assert.equal(r.running, false);
    const now = String(guest(103).config.net0);
    assert.match(now, /(?:^|,)ip=10\.50\.0\.7\/24(?:,|$)/);
    assert.match(now, /(?:^|,)gw=10\.50\.0\.1(?:,|$)/);
    assert.match(now, /(?:^|,)ip6=fd00:50::7\/64(?:,|$)/);
    assert.match(now, /(?:^|,)gw6=fd00:50::1(?:,|$)/);
    assert.match(now, new RegExp(`hwaddr=${mac}`));
    assert.match(now, /firewall=1/);
    assert.match(now, /bridge=vmbr0/);

    // back to DHCP/SLAAC: the gateways go with the static addresses
    await ok('update_container_network', { node: 'pve1', vmid: 103, ip: 'dhcp', ip6: 'auto' });
    const dhcp = String(guest(103).config.net0);
    assert.match(dhcp, /ip=dhcp/);
    assert.match(dhcp, /ip6=auto/);
    assert.doesNotMatch(dhcp, /gw6?=/);
  });

  test('update_container_network: the bridge of a running container over REST; an empty gw removes it', async () => {
    const ct = guest(105);
    await request(suite.h.url)
      .put(`/nodes/${ct.node}/containers/105/network`)
      .set(suite.h.auth)
      .send({ network_bridge: 'vmbr1' })
      .expect(200)
      .expect((res) => assert.equal(res.body.running, ct.status === 'running'));
    assert.match(String(ct.config.net0), /bridge=vmbr1/);
    const staticIp = /ip=([^,]+)/.exec(String(ct.config.net0))?.[1];
    if (staticIp && staticIp !== 'dhcp') {
      await ok('update_container_network', { node: ct.node, vmid: 105, gw: '' });
      assert.doesNotMatch(String(ct.config.net0), /gw=/);
      assert.match(String(ct.config.net0), new RegExp(`ip=${staticIp.replace(/[./]/g, '\\$&')}`));
    }
  });

  test('update_container_network refusals name the field and send nothing', async () => {
    const mark = lastSeq();
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, interface: 'net3', ip: 'dhcp' },
      'NOT_FOUND',
      /has no net3; its network devices are net0/,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, network_bridge: 'vmbr9' },
      'VALIDATION',
      /no bridge 'vmbr9' on node pve1.*vmbr0, vmbr1/s,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, ip: 'dhcp', gw: '10.0.0.1' },
      'VALIDATION',
      /gw needs a static ip/,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, ip6: 'auto', gw6: 'fd00::1' },
      'VALIDATION',
      /gw6 needs a static ip6/,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, ip6: 'fd00::zz/64' },
      'VALIDATION',
      /ip6/,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, ip6: 'fd00:::1:2:3/64' },
      'VALIDATION',
      /not an IPv6 address/,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, ip: '10.0.0.300/24' },
      'VALIDATION',
      /ip must be dhcp, manual or an IPv4/,
    );
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 103, interface: 'eth0', ip: 'dhcp' },
      'VALIDATION',
      /net0 … net31/,
    );
    await fails('update_container_network', { node: 'pve1', vmid: 103 }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_container_network',
      { node: 'pve1', vmid: 100, ip: 'dhcp' },
      'NOT_FOUND',
      /Container 100 not found/,
    );
    assert.deepEqual(mutations(mark), [], 'nothing was changed');
    await request(suite.h.url)
      .put('/nodes/pve1/containers/103/network')
      .set(suite.h.auth)
      .send({ ip: 'dhcp', mac: 'x' })
      .expect(400);
  });

  test('clone_container: a full copy into a pool is a job with the new vmid at the top level', async () => {
    const job = await ok('clone_container', {
      node: 'pve1',
      source_vmid: 103,
      target_vmid: 930,
      hostname: 'ct-copy',
      pool: 'prod',
      wait: true,
    });
    assert.equal(job.vmid, 930);
    assert.equal(job.status, 'completed');
    assert.equal(job.tool_name, 'clone_container');
    assert.match(job.task_id, /:vzclone:103:/);
    assert.equal(guest(930).config.hostname, 'ct-copy');
    assert.equal(guest(930).pool, 'prod');

    const rest = await request(suite.h.url)
      .post('/nodes/pve2/containers/101/clone')
      .set(suite.h.auth)
      .send({ snapname: 'initial', wait: true })
      .expect(202);
    assert.equal(typeof rest.body.vmid, 'number');
    assert.equal(rest.body.status, 'completed');
    assert.equal(guest(rest.body.vmid).node, 'pve2');
  });

  test('clone_container: a linked clone of a container template; another node needs shared storage', async () => {
    const tpl = guest(109);
    tpl.template = true;
    tpl.config.rootfs = String(tpl.config.rootfs).replace(':vm-109-', ':base-109-');
    const job = await ok('clone_container', {
      node: tpl.node,
      source_vmid: 109,
      target_vmid: 931,
      full: false,
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.metadata.full, false);
    assert.match(String(guest(931).config.rootfs), /^local-lvm:vm-931-disk-0/);
    await fails(
      'clone_container',
      { node: tpl.node, source_vmid: 109, full: false, storage: 'nas' },
      'VALIDATION',
      /storage is only allowed for full clones/,
    );
    const other = tpl.node === 'pve1' ? 'pve2' : 'pve1';
    await fails(
      'clone_container',
      { node: tpl.node, source_vmid: 109, target_node: other },
      'VALIDATION',
      /target_node: container 109 cannot be cloned to pve\d, its volumes would stay on storage local/,
    );
    await fails(
      'clone_container',
      { node: tpl.node, source_vmid: 109, target_node: 'pve7' },
      'NOT_FOUND',
      /'pve7' is not a node of the cluster/,
    );
  });

  test('clone_container refusals before anything is sent', async () => {
    const mark = lastSeq();
    await fails(
      'clone_container',
      { node: 'pve1', source_vmid: 103, pool: 'nope' },
      'NOT_FOUND',
      /no resource pool 'nope'.*lab, prod/s,
    );
    await fails(
      'clone_container',
      { node: 'pve1', source_vmid: 103, target_vmid: 100 },
      'CONFLICT',
      /target_vmid 100 is already used/,
    );
    await fails(
      'clone_container',
      { node: 'pve1', source_vmid: 103, full: false },
      'VALIDATION',
      /needs a container template/,
    );
    await fails('clone_container', { node: 'pve2', source_vmid: 101 }, 'CONFLICT', /running.*snapshot/s);
    await fails(
      'clone_container',
      { node: 'pve1', source_vmid: 100 },
      'NOT_FOUND',
      /Container 100 not found on node pve1/,
    );
    await fails(
      'clone_container',
      { node: 'pve1', source_vmid: 103, pool: 'bad pool' },
      'VALIDATION',
      /pool must be a pool id/,
    );
    assert.deepEqual(mutations(mark), [], 'nothing was sent');
  });

  test('create_container: ip6/gw6 and the reference name gw reach net0; the pool must exist', async () => {
    const job = await ok('create_container', {
      node: 'pve1',
      vmid: 940,
      ostemplate: TEMPLATE,
      ip: '10.60.0.5/24',
      gw: '10.60.0.1',
      ip6: 'fd00:60::5/64',
      gw6: 'fd00:60::1',
      pool: 'lab',
      wait: true,
    });
    assert.equal(job.status, 'completed');
    const net0 = String(guest(940).config.net0);
    for (const part of ['ip=10.60.0.5/24', 'gw=10.60.0.1', 'ip6=fd00:60::5/64', 'gw6=fd00:60::1']) {
      assert.ok(net0.split(',').includes(part), `${part} in ${net0}`);
    }
    assert.equal(guest(940).pool, 'lab');

    const mark = lastSeq();
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, pool: 'nope' },
      'NOT_FOUND',
      /no resource pool 'nope'/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, ip6: 'auto', gw6: 'fd00::1' },
      'VALIDATION',
      /gw6 needs a static ip6/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, ip6: '1:2:3/64' },
      'VALIDATION',
      /not an IPv6 address/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, ip: '10.0.0.5/24', gw: '10.0.0.1', gateway: '10.0.0.2' },
      'VALIDATION',
      /gw and gateway are the same setting/,
    );
    assert.deepEqual(mutations(mark), []);
  });
});
