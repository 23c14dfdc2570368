import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { pvePathTemplate } from '../../src/metrics/metric-labels.js';
import { firewallOf } from '../../src/simulator/firewall-state.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { resultText, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';

// The firewall tools over MCP and REST against the schema-checked simulator: one `scope` argument picks the
// cluster, a node, a VM or a container; changes are synchronous (no job) and guarded by PVE's digest; enabling a
// host firewall that would lock out the management ports is refused unless forced.
describe('firewall rules, options, aliases and ipsets at every scope', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations, changes } = simRequests(() => h.sim);
  const fw = () => firewallOf(h.sim.cluster);

  harnessSuite(
    () => startHarness({ nodes: 2, guests: 4 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('list_firewall_rules: the cluster rules in order with their digest; MCP and REST agree', async () => {
    const r = await call('list_firewall_rules', { scope: 'cluster' });
    assert.equal(r.isError, undefined, resultText(r));
    const list = r.structuredContent;
    assert.equal(list.scope, 'cluster');
    assert.deepEqual(
      list.rules.map((x: { pos: number; action: string }) => `${x.pos} ${x.action}`),
      ['0 DROP', '1 ACCEPT', '2 ACCEPT'],
    );
    assert.deepEqual(list.rules[1], {
      pos: 1,
      type: 'in',
      action: 'ACCEPT',
      macro: 'SSH',
      source: 'admin_net',
      enable: true,
      comment: 'SSH from admins',
    });
    assert.equal(list.rules[2].icmp_type, 'echo-request');
    assert.match(list.digest, /^[0-9a-f]{40}$/);
    assert.match(
      resultText(r),
      /^Cluster firewall: 3 rules \(first match wins\)\n0: in DROP from \+blocklist log info/,
    );
    const rest = await request(h.url).get('/firewall/rules?scope=cluster').set(h.auth).expect(200);
    assert.deepEqual(rest.body, list);
  });

  test('node, vm and container scopes: the guest node is looked up; an empty list has no digest', async () => {
    const node = await ok('list_firewall_rules', { scope: 'node', node: 'pve2' });
    assert.deepEqual(node, { target: node.target, scope: 'node', node: 'pve2', rules: [] });
    const vm = await call('list_firewall_rules', { scope: 'vm', vmid: 100 });
    assert.equal(vm.structuredContent.node, h.sim.cluster.guest(100)!.node);
    assert.equal(resultText(vm), `Firewall of VM 100 (on ${vm.structuredContent.node}): no rules.`);
    const ct = await ok('list_firewall_rules', { scope: 'container', vmid: 101 });
    assert.equal(ct.vmid, 101);
    const rest = await request(h.url).get('/firewall/rules?scope=container&vmid=101').set(h.auth).expect(200);
    assert.deepEqual(rest.body, ct);
  });

  test('scope refusals name the field: missing node/vmid, the wrong guest kind, unknown node or guest', async () => {
    await fails('list_firewall_rules', { scope: 'node' }, 'VALIDATION', /node: required with scope node/);
    await fails('list_firewall_rules', { scope: 'vm' }, 'VALIDATION', /vmid: required with scope vm/);
    await fails(
      'list_firewall_rules',
      { scope: 'vm', vmid: 101 },
      'VALIDATION',
      /101 is a container; use scope container/,
    );
    await fails(
      'list_firewall_rules',
      { scope: 'container', vmid: 9999 },
      'NOT_FOUND',
      /No VM or container with vmid 9999/,
    );
    await fails(
      'list_firewall_rules',
      { scope: 'node', node: 'pve9' },
      'NOT_FOUND',
      /No node 'pve9'.*\n?.*pve1, pve2/s,
    );
    await fails(
      'list_firewall_rules',
      { scope: 'cluster', vmid: 100 },
      'VALIDATION',
      /vmid: not used with scope cluster/,
    );
    await fails('list_firewall_rules', { scope: 'datacenter' }, 'VALIDATION', /scope/);
    const other = h.sim.cluster.guest(100)!.node === 'pve1' ? 'pve2' : 'pve1';
    await fails(
      'get_firewall_options',
      { scope: 'vm', vmid: 100, node: other },
      'VALIDATION',
      /node: guest 100 is on/,
    );
    await request(h.url).get('/firewall/rules?scope=vm&vmid=abc').set(h.auth).expect(400);
  });

  test('add_firewall_rule: one POST, enabled by default, first; pos moves it with a digest-guarded PUT', async () => {
    let seq = lastSeq();
    const r = await call('add_firewall_rule', {
      scope: 'vm',
      vmid: 100,
      type: 'in',
      action: 'ACCEPT',
      proto: 'tcp',
      dport: '80,443',
      source: '+dc/trusted',
      comment: 'web',
    });
    assert.equal(r.isError, undefined, resultText(r));
    const node = h.sim.cluster.guest(100)!.node;
    assert.deepEqual(changes(seq), [
      `POST /nodes/${node}/qemu/100/firewall/rules {"action":"ACCEPT","comment":"web","dport":"80,443","enable":"1","proto":"tcp","source":"+dc/trusted","type":"in"}`,
    ]);
    assert.deepEqual(r.structuredContent.rule, {
      pos: 0,
      type: 'in',
      action: 'ACCEPT',
      proto: 'tcp',
      dport: '80,443',
      source: '+dc/trusted',
      enable: true,
      comment: 'web',
    });
    assert.match(
      resultText(r),
      /^Firewall of VM 100 \(on pve\d\):\n- added rule in ACCEPT tcp dport 80,443 from \+dc\/trusted to the firewall of VM 100( \([^)]*\))? at position 0\n0: in ACCEPT/,
    );

    await ok('add_firewall_rule', {
      scope: 'vm',
      vmid: 100,
      type: 'in',
      action: 'DROP',
      comment: 'last',
      enable: false,
    });
    seq = lastSeq();
    const placed = await ok('add_firewall_rule', {
      scope: 'vm',
      vmid: 100,
      type: 'out',
      action: 'REJECT',
      dest: '10.0.0.0/8',
      comment: 'middle',
      pos: 1,
    });
    assert.equal(placed.rule.pos, 1);
    assert.equal(placed.rule.comment, 'middle');
    const sent = mutations(seq);
    assert.deepEqual(
      sent.map((q) => `${q.method} ${q.path}`),
      [`POST /nodes/${node}/qemu/100/firewall/rules`, `PUT /nodes/${node}/qemu/100/firewall/rules/0`],
    );
    assert.equal((sent[1].body as Record<string, string>).moveto, '2');
    assert.match((sent[1].body as Record<string, string>).digest, /^[0-9a-f]{40}$/);
    const list = await ok('list_firewall_rules', { scope: 'vm', vmid: 100 });
    assert.deepEqual(
      list.rules.map((x: { comment: string; enable: boolean }) => `${x.comment}:${x.enable}`),
      ['last:false', 'middle:true', 'web:true'],
    );
  });

  test('add_firewall_rule at node, container and cluster scope (a security group), and over REST', async () => {
    const host = await ok('add_firewall_rule', {
      scope: 'node',
      node: 'pve1',
      type: 'in',
      action: 'ACCEPT',
      proto: 'tcp',
      dport: '8006',
      source: 'admin_net',
      iface: 'vmbr0',
    });
    assert.equal(host.rule.iface, 'vmbr0');
    const group = await ok('add_firewall_rule', {
      scope: 'cluster',
      type: 'group',
      action: 'webserver',
      pos: 99,
    });
    assert.equal(group.rule.pos, 3, 'past the end: last');
    const rest = await request(h.url)
      .post('/firewall/rules?scope=container&vmid=101')
      .set(h.auth)
      .send({ type: 'in', action: 'ACCEPT', macro: 'SSH', iface: 'net0', log: 'info' })
      .expect(201);
    assert.equal(rest.body.rule.macro, 'SSH');
    assert.equal(fw().guest(101).rules[0].iface, 'net0');
  });

  test('bad rules are refused with the field and why, before anything is sent', async () => {
    const seq = lastSeq();
    const base = { scope: 'vm', vmid: 100, type: 'in', action: 'ACCEPT' };
    await fails('add_firewall_rule', { ...base, type: 'forward' }, 'VALIDATION', /type/);
    await fails(
      'add_firewall_rule',
      { ...base, action: 'ALLOW' },
      'VALIDATION',
      /action: must be ACCEPT, DROP or REJECT/,
    );
    await fails(
      'add_firewall_rule',
      { ...base, proto: 'tcp', dport: '99999' },
      'VALIDATION',
      /dport: port 99999 is out of range/,
    );
    await fails(
      'add_firewall_rule',
      { ...base, proto: 'tcp', dport: '90:80' },
      'VALIDATION',
      /runs backwards/,
    );
    await fails('add_firewall_rule', { ...base, dport: '22' }, 'VALIDATION', /dport: needs proto tcp or udp/);
    await fails(
      'add_firewall_rule',
      { ...base, proto: 'icmp', dport: '22' },
      'VALIDATION',
      /protocol icmp has no ports/,
    );
    await fails('add_firewall_rule', { ...base, dport: '22;rm' }, 'VALIDATION', /dport/);
    await fails(
      'add_firewall_rule',
      { ...base, source: 'nosuch' },
      'VALIDATION',
      /source: no alias 'nosuch'/,
    );
    await fails(
      'add_firewall_rule',
      { ...base, source: '+nosuch' },
      'VALIDATION',
      /source: no ipset 'nosuch'/,
    );
    await fails('add_firewall_rule', { ...base, source: '10.0.0.0/33' }, 'VALIDATION', /prefix length \/33/);
    await fails(
      'add_firewall_rule',
      { ...base, dest: '10.0.0.1,fe80::1' },
      'VALIDATION',
      /do not mix IPv4 and IPv6/,
    );
    await fails('add_firewall_rule', { ...base, source: '999.1.1.1' }, 'VALIDATION', /is not an IP address/);
    await fails(
      'add_firewall_rule',
      { ...base, iface: 'vmbr0' },
      'VALIDATION',
      /iface: a guest rule names its network device/,
    );
    await fails('add_firewall_rule', { ...base, log: 'loud' }, 'VALIDATION', /log/);
    await fails(
      'add_firewall_rule',
      { ...base, icmp_type: 'echo-request' },
      'VALIDATION',
      /icmp_type: needs proto icmp/,
    );
    await fails(
      'add_firewall_rule',
      { ...base, type: 'group', action: 'nogroup' },
      'VALIDATION',
      /no security group 'nogroup' \(groups: webserver\)/,
    );
    await fails('add_firewall_rule', { ...base, comment: 'two\nlines' }, 'VALIDATION', /comment/);
    await fails('add_firewall_rule', { ...base, position: 2 }, 'VALIDATION', /position/);
    assert.deepEqual(changes(seq), []);
  });

  test('add_firewall_rule with pos: when the move after the POST is refused, the caller is told where the rule is', async () => {
    const node = h.sim.cluster.guest(100)!.node;
    h.sim.faults.add({
      match: { method: 'PUT', path: `/nodes/${node}/qemu/100/firewall/rules/0` },
      mode: 'status',
      status: 500,
      message: 'detected modified configuration - file changed by other user? Try again.',
      times: 1,
    });
    const text = await fails(
      'add_firewall_rule',
      { scope: 'vm', vmid: 100, type: 'in', action: 'ACCEPT', comment: 'unmoved', pos: 2 },
      'CONFLICT',
      /Added the rule to the firewall of VM 100.* at position 0, but could not move it to position 2: The configuration of the firewall of VM 100.* changed since the digest was read/,
    );
    assert.match(text, /update_firewall_rule with moveto/);
    assert.equal(fw().guest(100).rules[0].comment, 'unmoved');
    fw().guest(100).rules.shift();
  });

  test('update_firewall_rule: one PUT with the type and the digest read first; an empty string removes a field', async () => {
    const { digest } = await ok('list_firewall_rules', { scope: 'cluster' });
    let seq = lastSeq();
    const r = await call('update_firewall_rule', {
      scope: 'cluster',
      pos: 1,
      dport: 'ssh',
      proto: 'tcp',
      macro: '',
      comment: '',
    });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [
      `PUT /cluster/firewall/rules/1 ${JSON.stringify({ delete: 'macro,comment', digest, dport: 'ssh', proto: 'tcp', type: 'in' })}`,
    ]);
    assert.deepEqual(r.structuredContent.changes, [
      'removed macro',
      'set proto to tcp',
      'set dport to ssh',
      'removed comment',
    ]);
    assert.equal(r.structuredContent.rule.macro, undefined);
    assert.equal(r.structuredContent.rule.source, 'admin_net', 'fields not given are kept');
    seq = lastSeq();
    const off = await ok('update_firewall_rule', { scope: 'cluster', pos: 1, enable: false });
    assert.equal(off.rule.enable, false);
    assert.equal(fw().cluster.rules[1].enable, 0);
    // REST: PUT /firewall/rules/{pos} with the scope in the query
    const rest = await request(h.url)
      .put('/firewall/rules/1?scope=cluster')
      .set(h.auth)
      .send({ enable: true, comment: 'ssh' })
      .expect(200);
    assert.equal(rest.body.rule.comment, 'ssh');
    assert.ok(changes(seq).every((c) => /"digest":"[0-9a-f]{40}"/.test(c)));
  });

  test('update_firewall_rule moveto: the rule ends at the position asked, both ways', async () => {
    const before = (await ok('list_firewall_rules', { scope: 'cluster' })).rules.map(
      (x: { action: string; comment?: string }) => x.comment ?? x.action,
    );
    const down = await ok('update_firewall_rule', { scope: 'cluster', pos: 0, moveto: 2 });
    assert.equal(down.rule.comment, 'blocklist');
    assert.equal(down.rule.pos, 2);
    assert.deepEqual(down.changes, ['moved the rule from position 0 to 2']);
    const up = await ok('update_firewall_rule', { scope: 'cluster', pos: 2, moveto: 0 });
    assert.equal(up.rule.comment, 'blocklist');
    const after = (await ok('list_firewall_rules', { scope: 'cluster' })).rules.map(
      (x: { action: string; comment?: string }) => x.comment ?? x.action,
    );
    assert.deepEqual(after, before);
    await fails(
      'update_firewall_rule',
      { scope: 'cluster', pos: 0, moveto: 9 },
      'VALIDATION',
      /moveto: must be 0-3/,
    );
    await fails(
      'update_firewall_rule',
      { scope: 'cluster', pos: 0, moveto: 1, comment: 'x' },
      'VALIDATION',
      /a move is a call of its own/,
    );
    await fails('update_firewall_rule', { scope: 'cluster', pos: 0 }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_firewall_rule',
      { scope: 'cluster', pos: 7, comment: 'x' },
      'NOT_FOUND',
      /No rule at position 7 in the cluster firewall: it has 4 rules \(0-3\)/,
    );
    await fails('update_firewall_rule', { scope: 'cluster', pos: -1, comment: 'x' }, 'VALIDATION', /pos/);
  });

  test('digest: a stale caller digest is refused before sending; a change between our read and write is refused by PVE', async () => {
    const { digest } = await ok('list_firewall_rules', { scope: 'cluster' });
    fw().cluster.rules.push({ type: 'out', action: 'ACCEPT', comment: 'from the GUI', enable: 1 });
    let seq = lastSeq();
    const text = await fails(
      'update_firewall_rule',
      { scope: 'cluster', pos: 0, comment: 'x', digest },
      'CONFLICT',
      /rule list of the cluster firewall changed since the digest was read/,
    );
    assert.match(text, /list_firewall_rules/);
    assert.deepEqual(changes(seq), []);

    // no digest from the caller: the one read just before is sent, and PVE refuses when the list changes in between
    h.sim.faults.add({
      match: { method: 'PUT', path: '/cluster/firewall/rules/0' },
      mode: 'latency',
      latencyMs: 500,
      times: 1,
    });
    seq = lastSeq();
    const pending = call('update_firewall_rule', { scope: 'cluster', pos: 0, comment: 'mine' });
    // the PUT has arrived (its one-time fault is used up) and waits: change the list under it
    while (h.sim.faults.list().length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    fw().cluster.rules.unshift({ type: 'in', action: 'DROP', comment: 'inserted meanwhile', enable: 1 });
    const raced = await pending;
    assert.equal(raced.isError, true);
    assert.match(
      resultText(raced),
      /^CONFLICT: The configuration of the cluster firewall changed since the digest was read/,
    );
    assert.equal(mutations(seq).length, 1, 'the PUT was sent with the digest and refused');
    assert.equal(fw().cluster.rules[0].comment, 'inserted meanwhile');
    assert.notEqual(fw().cluster.rules[1].comment, 'mine');
    fw().cluster.rules.shift();
    fw().cluster.rules.pop();
  });

  test('get_firewall_options and set_firewall_options at guest scope; options of another scope are refused', async () => {
    const before = await call('get_firewall_options', { scope: 'container', vmid: 101 });
    assert.deepEqual(before.structuredContent.options, {});
    assert.match(resultText(before), /\(all at their defaults\)/);
    const seq = lastSeq();
    const set = await ok('set_firewall_options', {
      scope: 'container',
      vmid: 101,
      enable: true,
      policy_in: 'DROP',
      macfilter: false,
    });
    const node = h.sim.cluster.guest(101)!.node;
    assert.deepEqual(changes(seq), [
      `PUT /nodes/${node}/lxc/101/firewall/options ${JSON.stringify({ digest: before.structuredContent.digest, enable: '1', macfilter: '0', policy_in: 'DROP' })}`,
    ]);
    assert.deepEqual(set.options, { enable: true, policy_in: 'DROP', macfilter: false });
    const reset = await ok('set_firewall_options', { scope: 'container', vmid: 101, reset: ['macfilter'] });
    assert.deepEqual(reset.options, { enable: true, policy_in: 'DROP' });
    assert.deepEqual(reset.changes, ['reset macfilter to its default']);
    const rest = await request(h.url)
      .get('/firewall/options?scope=container&vmid=101')
      .set(h.auth)
      .expect(200);
    assert.deepEqual(rest.body.options, reset.options);

    await fails(
      'set_firewall_options',
      { scope: 'vm', vmid: 100, nosmurfs: true },
      'VALIDATION',
      /nosmurfs: not an option of the vm firewall; it takes enable, policy_in/,
    );
    await fails(
      'set_firewall_options',
      { scope: 'node', node: 'pve1', policy_in: 'DROP' },
      'VALIDATION',
      /policy_in: not an option of the node firewall/,
    );
    await fails('set_firewall_options', { scope: 'vm', vmid: 100 }, 'VALIDATION', /Nothing to change/);
    await fails(
      'set_firewall_options',
      { scope: 'vm', vmid: 100, policy_in: 'ALLOW' },
      'VALIDATION',
      /policy_in/,
    );
    await fails(
      'set_firewall_options',
      { scope: 'vm', vmid: 100, enable: true, digest: '0'.repeat(40) },
      'CONFLICT',
      /options of the firewall of VM 100/,
    );
    const node1 = await ok('set_firewall_options', {
      scope: 'node',
      node: 'pve1',
      nosmurfs: true,
      log_level_in: 'info',
    });
    assert.deepEqual(node1.options, { nosmurfs: true, log_level_in: 'info' });
  });

  test('list_firewall_aliases and list_firewall_ipsets: the cluster ones, ipsets with entries; guests have their own', async () => {
    const aliases = await call('list_firewall_aliases', { scope: 'cluster' });
    assert.deepEqual(aliases.structuredContent.aliases[0], {
      name: 'admin_net',
      cidr: '192.168.10.0/24',
      comment: 'Admin workstations',
    });
    assert.match(resultText(aliases), /- backup_server = 192\.168\.20\.5 \(Proxmox Backup Server\)/);
    const ipsets = await call('list_firewall_ipsets', { scope: 'cluster' });
    const trusted = ipsets.structuredContent.ipsets.find((s: { name: string }) => s.name === 'trusted');
    assert.deepEqual(trusted.entries[1], { cidr: '192.168.10.66', nomatch: true, comment: 'kiosk' });
    assert.match(
      resultText(ipsets),
      /- \+trusted \(Hosts allowed to reach the guests\): 192\.168\.10\.0\/24, !192\.168\.10\.66, 192\.168\.20\.5/,
    );
    fw().guest(100).aliases.set('db', { name: 'db', cidr: '10.1.1.5' });
    fw().guest(100).ipsets.set('clients', { name: 'clients', entries: [] });
    const vmAliases = await ok('list_firewall_aliases', { scope: 'vm', vmid: 100 });
    assert.deepEqual(vmAliases.aliases, [{ name: 'db', cidr: '10.1.1.5' }]);
    const vmSets = await ok('list_firewall_ipsets', { scope: 'vm', vmid: 100 });
    assert.deepEqual(vmSets.ipsets, [{ name: 'clients', entries: [] }]);
    // a guest rule may use its own alias and ipset
    await ok('add_firewall_rule', {
      scope: 'vm',
      vmid: 100,
      type: 'out',
      action: 'ACCEPT',
      dest: 'db',
      source: '+guest/clients',
    });
    await fails(
      'add_firewall_rule',
      { scope: 'node', node: 'pve1', type: 'in', action: 'ACCEPT', source: 'db' },
      'VALIDATION',
      /no alias 'db' in the cluster/,
    );
    await fails(
      'list_firewall_aliases',
      { scope: 'node', node: 'pve1' },
      'VALIDATION',
      /PVE has aliases at cluster, vm and container level only/,
    );
    const rest = await request(h.url).get('/firewall/ipsets?scope=cluster').set(h.auth).expect(200);
    assert.deepEqual(rest.body, ipsets.structuredContent);
  });

  test('enabling the cluster firewall without management access is refused, naming what is missing; force enables it', async () => {
    assert.equal(fw().cluster.options.enable, 0);
    let seq = lastSeq();
    const text = await fails(
      'set_firewall_options',
      { scope: 'cluster', enable: true },
      'CONFLICT',
      /cut off management access to pve2: with input policy DROP, no enabled incoming ACCEPT rule at cluster or node level opens 8006\/tcp \(web UI and API\)/,
    );
    // pve1 has its own 8006 rule (added above) and SSH comes from the cluster rule: only pve2 lacks 8006
    assert.doesNotMatch(text, /22\/tcp/);
    assert.match(text, /force: true/);
    assert.match(text, /'management'/);
    assert.deepEqual(changes(seq), []);
    // REST says the same with 409
    const refused = await request(h.url)
      .put('/firewall/options?scope=cluster')
      .set(h.auth)
      .send({ enable: true })
      .expect(409);
    assert.deepEqual(refused.body.details.blocked, { pve2: ['8006/tcp (web UI and API)'] });
    // with the SSH rule disabled, both ports are named
    fw().cluster.rules[1].enable = 0;
    await fails(
      'set_firewall_options',
      { scope: 'cluster', enable: true },
      'CONFLICT',
      /opens 8006\/tcp \(web UI and API\) and 22\/tcp \(SSH\)/,
    );
    fw().cluster.rules[1].enable = 1;
    // an ACCEPT input policy never locks out
    assert.equal(
      (await ok('set_firewall_options', { scope: 'cluster', enable: true, policy_in: 'ACCEPT' })).options
        .enable,
      true,
    );
    await fails(
      'set_firewall_options',
      { scope: 'cluster', policy_in: 'REJECT' },
      'CONFLICT',
      /input policy REJECT/,
    );
    await ok('set_firewall_options', { scope: 'cluster', enable: false, reset: ['policy_in'] });

    seq = lastSeq();
    const forced = await call('set_firewall_options', { scope: 'cluster', enable: true, force: true });
    assert.equal(forced.isError, undefined, resultText(forced));
    assert.deepEqual(
      changes(seq).map((c) => c.split(' {')[0]),
      ['PUT /cluster/firewall/options'],
    );
    assert.equal(fw().cluster.options.enable, 1);
    assert.match(resultText(forced), /^Cluster firewall options: firewall on\n- set enable to true/);
  });

  test('node scope: turning a host firewall back on is checked the same way; a management ipset counts as access', async () => {
    await ok('set_firewall_options', { scope: 'node', node: 'pve2', enable: false });
    await fails(
      'set_firewall_options',
      { scope: 'node', node: 'pve2', enable: true },
      'CONFLICT',
      /management access to pve2/,
    );
    fw().cluster.ipsets.set('management', { name: 'management', entries: [{ cidr: '192.168.10.0/24' }] });
    const on = await ok('set_firewall_options', { scope: 'node', node: 'pve2', enable: true });
    assert.equal(on.options.enable, true);
    fw().cluster.ipsets.delete('management');
    // pve1 has its own 8006 rule: nothing is missing there
    await ok('set_firewall_options', { scope: 'node', node: 'pve1', enable: false });
    await ok('set_firewall_options', { scope: 'node', node: 'pve1', enable: true });
  });
});

// delete_firewall_rule is a destroy tool: with the shipped policy (enforce) it needs an operator's approval, asked
// for only after its read-only checks (scope, position, digest) pass.
describe('delete_firewall_rule needs an approval', () => {
  let h: Harness;
  let mcp: Client;
  const { call, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);
  const approve = (id: string) => approveAsOperator(h.url, id);

  harnessSuite(
    () => startApprovalHarness({ nodes: 1, guests: 2 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('MCP: a missing rule or a stale digest is refused before an approval; then it runs once with the token', async () => {
    const seq = lastSeq();
    await fails('delete_firewall_rule', { scope: 'cluster', pos: 5 }, 'NOT_FOUND', /No rule at position 5/);
    await fails(
      'delete_firewall_rule',
      { scope: 'cluster', pos: 0, digest: 'a'.repeat(40) },
      'CONFLICT',
      /changed since/,
    );
    await fails('delete_firewall_rule', { scope: 'vm', pos: 0 }, 'VALIDATION', /vmid: required/);
    assert.deepEqual(mutations(seq), []);

    const refused = await call('delete_firewall_rule', { scope: 'cluster', pos: 0 });
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: High-risk operation 'delete_firewall_rule'/);
    assert.deepEqual(mutations(seq), []);
    const token = await approve(/Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1]);
    const done = await call('delete_firewall_rule', { scope: 'cluster', pos: 0, approval_token: token });
    assert.equal(done.isError, undefined, resultText(done));
    assert.equal(done.structuredContent.rule.comment, 'blocklist');
    assert.match(resultText(done), /^Cluster firewall: removed rule 0: in DROP from \+blocklist/);
    const sent = mutations(seq);
    assert.deepEqual(
      sent.map((q) => `${q.method} ${q.path}`),
      ['DELETE /cluster/firewall/rules/0'],
    );
    assert.match(String((sent[0].query as Record<string, string>).digest), /^[0-9a-f]{40}$/);
    assert.equal(firewallOf(h.sim.cluster).cluster.rules.length, 2);
  });

  test('REST DELETE takes the scope in the query and the token in the X-Approval-Token header', async () => {
    const node = h.sim.cluster.guest(100)!.node;
    firewallOf(h.sim.cluster)
      .guest(100)
      .rules.push({ type: 'in', action: 'ACCEPT', comment: 'old', enable: 1 });
    const refused = await request(h.url)
      .delete('/firewall/rules/0?scope=vm&vmid=100')
      .set(h.auth)
      .expect(403);
    assert.equal(refused.body.details.tool, 'delete_firewall_rule');
    const token = await approve(refused.body.details.request_id);
    const done = await request(h.url)
      .delete('/firewall/rules/0?scope=vm&vmid=100')
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
    assert.equal(done.body.node, node);
    assert.equal(done.body.rule.comment, 'old');
    assert.deepEqual(firewallOf(h.sim.cluster).guest(100).rules, []);
  });
});

// The PVE request metrics label paths by template: ipset, alias and security group names are user-chosen, so they
// must never become label values.
test('metrics: firewall paths are labelled without ipset, alias, group names or positions', () => {
  const cases: Array<[string, string]> = [
    ['/cluster/firewall/ipset/trusted', '/cluster/firewall/ipset/{name}'],
    ['/nodes/pve1/qemu/100/firewall/ipset/clients', '/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}'],
    ['/nodes/pve1/lxc/101/firewall/aliases/db', '/nodes/{node}/lxc/{vmid}/firewall/aliases/{name}'],
    ['/cluster/firewall/groups/webserver', '/cluster/firewall/groups/{group}'],
    ['/nodes/pve1/firewall/rules/2', '/nodes/{node}/firewall/rules/{id}'],
  ];
  for (const [path, template] of cases) assert.equal(pvePathTemplate(path), template, path);
});
