import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { resultText, simRequests, toolCalls } from '../helpers/tools.js';

const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

describe('log tools (get_node_syslog, get_cluster_log, get_node_firewall_log) against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const requests = simRequests(() => h.sim);

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12 });
    mcp = await h.mcp();
    await mcp.listTools(); // the SDK now checks every result against the tool's outputSchema
  });
  after(async () => {
    await h.close(); // fails on any request real PVE would refuse
  });

  test('the three tools are listed read-only, with since/until taking a string or an integer', async () => {
    const { tools } = await mcp.listTools();
    for (const name of ['get_node_syslog', 'get_cluster_log', 'get_node_firewall_log']) {
      const tool = tools.find((t) => t.name === name);
      assert.ok(tool, `${name} is listed`);
      assert.equal(tool.annotations?.readOnlyHint, true);
    }
    const syslog = tools.find((t) => t.name === 'get_node_syslog')!.inputSchema as any;
    assert.deepEqual(syslog.properties.since.type, ['string', 'integer']);
    assert.equal(syslog.properties.limit.maximum, 500);
    assert.deepEqual(syslog.required, ['node']);
  });

  test('get_node_syslog pages through the journal with start/limit and next_start', async () => {
    const journal = h.sim.logs.syslog('pve1');
    const first = await ok('get_node_syslog', { node: 'pve1', limit: 10 });
    assert.equal(first.total, journal.length);
    assert.deepEqual(
      first.lines.map((l: any) => l.n),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(first.lines[0].text, h.sim.logs.syslogLine('pve1', journal[0]));
    assert.equal(first.next_start, 10);
    assert.equal(first.truncated, false);

    const second = await ok('get_node_syslog', { node: 'pve1', start: first.next_start, limit: 10 });
    assert.equal(second.lines[0].n, 11);
    assert.equal(second.lines[0].text, h.sim.logs.syslogLine('pve1', journal[10]));

    const last = await ok('get_node_syslog', { node: 'pve1', start: journal.length - 3 });
    assert.equal(last.lines.length, 3);
    assert.equal(last.next_start, null, 'the end of the log has no next page');

    const r = await call('get_node_syslog', { node: 'pve1', limit: 2 });
    assert.match(
      resultText(r),
      /^Syslog of pve1 \(lines 1-2 of \d+\)\n.*\n.*\n\[more: call again with start=2\]$/,
    );
  });

  test('since/until (ISO-8601 or epoch) select a time window; the node time zone decides what is sent', async () => {
    h.sim.logs.setTimezone('pve2', 'Europe/Vienna');
    const journal = h.sim.logs.syslog('pve2');
    const since = journal[100].time;
    const until = journal[160].time;
    const expected = journal.filter((e) => e.time >= since && e.time <= until);
    const mark = requests.lastSeq();
    const page = await ok('get_node_syslog', { node: 'pve2', since: iso(since), until, limit: 500 });
    assert.equal(page.total, expected.length);
    assert.deepEqual(
      page.lines.map((l: any) => l.text),
      expected.map((e) => h.sim.logs.syslogLine('pve2', e)),
    );
    assert.equal(page.since, iso(since));
    assert.equal(page.until, iso(until));
    assert.equal(page.timezone, 'Europe/Vienna');
    // what journalctl gets is the node's wall-clock time, not UTC
    const sent = requests.since(mark).find((r) => r.path.endsWith('/syslog'));
    assert.ok(sent);
    const local = new Date((since + h.sim.logs.offset('pve2', since)) * 1000).toISOString();
    assert.equal(String(sent.query.since), `${local.slice(0, 10)} ${local.slice(11, 19)}`);

    const offsetForm = await ok('get_node_syslog', {
      node: 'pve2',
      since: new Date(since * 1000).toISOString().replace('Z', '+00:00'),
      until: String(until),
    });
    assert.equal(offsetForm.total, expected.length);
  });

  test('service keeps one unit; lines appended by a test show up; nothing matching is an empty page', async () => {
    const units = h.sim.logs.syslog('pve1').filter((e) => e.unit === 'pvedaemon.service');
    const page = await ok('get_node_syslog', { node: 'pve1', service: 'pvedaemon', limit: 500 });
    assert.equal(page.total, units.length);
    assert.ok(page.lines.every((l: any) => / pvedaemon\[\d+\]: /.test(l.text)));
    assert.equal(page.service, 'pvedaemon');

    h.sim.logs.appendSyslog('pve1', {
      unit: 'pve-ha-lrm.service',
      ident: 'pve-ha-lrm',
      pid: 4242,
      msg: 'status change wait_for_agent_lock => active',
    });
    const ha = await ok('get_node_syslog', { node: 'pve1', service: 'pve-ha-lrm.service' });
    assert.equal(ha.total, 1);
    assert.match(ha.lines[0].text, /pve1 pve-ha-lrm\[4242\]: status change wait_for_agent_lock => active$/);

    const none = await ok('get_node_syslog', { node: 'pve1', service: 'no-such-unit' });
    assert.deepEqual(
      { lines: none.lines, total: none.total, next_start: none.next_start },
      { lines: [], total: 0, next_start: null },
      "journalctl's '-- No entries --' is not a log line",
    );
  });

  test('a page stops at 256 KiB of text and says so; the next page continues after it', async () => {
    const big = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 3; i++) {
      h.sim.logs.appendSyslog('pve3', { unit: 'big.service', ident: 'big', pid: 7, msg: `${i} ${big}` });
    }
    const page = await ok('get_node_syslog', { node: 'pve3', service: 'big' });
    assert.equal(page.lines.length, 2);
    assert.equal(page.truncated, true);
    assert.equal(page.next_start, 2);
    const rest = await ok('get_node_syslog', { node: 'pve3', service: 'big', start: page.next_start });
    assert.equal(rest.lines.length, 1);
    assert.match(rest.lines[0].text, /big\[7\]: 2 x/);
    assert.equal(rest.truncated, false);
    assert.equal(rest.next_start, null);
  });

  test('bad arguments are refused before anything is sent, naming the field', async () => {
    const mark = requests.lastSeq();
    await fails(
      'get_node_syslog',
      { node: 'pve1', limit: 501 },
      'VALIDATION',
      /limit must be 1-500 lines per page/,
    );
    await fails('get_node_syslog', { node: 'pve1', limit: 0 }, 'VALIDATION', /limit must be 1-500/);
    await fails(
      'get_node_syslog',
      { node: 'pve1', since: 'yesterday' },
      'VALIDATION',
      /since must be an ISO-8601/,
    );
    await fails(
      'get_node_syslog',
      { node: 'pve1', until: '2026-02-30T10:00:00Z' },
      'VALIDATION',
      /until '2026-02-30T10:00:00Z' is not a date-time that exists/,
    );
    await fails(
      'get_node_firewall_log',
      { node: 'pve1', since: 1_800_000_000, until: 1_700_000_000 },
      'VALIDATION',
      /until \(2023-11-14T22:13:20Z\) must not be before since \(2027-01-15T08:00:00Z\)/,
    );
    await fails(
      'get_node_syslog',
      { node: 'pve1', since: 1_700_000_000_000 },
      'VALIDATION',
      /since must be an ISO-8601 .* or Unix epoch seconds/,
    );
    await fails(
      'get_node_syslog',
      { node: 'pve1', service: 'pvedaemon; reboot' },
      'VALIDATION',
      /service must be a systemd unit name/,
    );
    await fails('get_cluster_log', { max: 501 }, 'VALIDATION', /max must be 1-500 entries/);
    assert.deepEqual(requests.since(mark), [], 'nothing reached Proxmox');
  });

  test('an unknown node is NOT_FOUND naming it', async () => {
    await fails('get_node_syslog', { node: 'pve9' }, 'NOT_FOUND', /Node 'pve9' is not part of the cluster/);
    await fails('get_node_firewall_log', { node: 'pve9' }, 'NOT_FOUND', /Node 'pve9'/);
  });

  test('get_cluster_log returns the newest max entries, newest first, appended ones included', async () => {
    const appended = h.sim.logs.appendClusterLog({
      pri: 6,
      tag: 'pvedaemon',
      pid: 31337,
      node: 'pve2',
      user: 'root@pam',
      msg: 'starting task UPID:pve2:00007A69:00000000:00000000:qmstart:104:root@pam:',
    });
    const log = await ok('get_cluster_log', { max: 5 });
    assert.equal(log.entries.length, 5);
    assert.equal(log.max, 5);
    assert.deepEqual(log.entries[0], {
      uid: appended.uid,
      time: iso(appended.time),
      node: 'pve2',
      severity: 'info',
      tag: 'pvedaemon',
      pid: 31337,
      user: 'root@pam',
      msg: appended.msg,
    });
    const times = log.entries.map((e: any) => e.time);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    const byDefault = await ok('get_cluster_log');
    assert.equal(byDefault.entries.length, 50);
    assert.match(
      resultText(await call('get_cluster_log', { max: 1 })),
      /^Cluster log \(1 newest entries\)\n.* pve2 pvedaemon\[31337\] info root@pam: starting task/,
    );
  });

  test('get_node_firewall_log pages and filters by time, each line with its parsed time', async () => {
    const fw = h.sim.logs.firewallLog('pve1');
    const first = await ok('get_node_firewall_log', { node: 'pve1', limit: 5 });
    assert.equal(first.total, fw.length);
    assert.equal(first.lines[0].text, h.sim.logs.firewallLine('pve1', fw[0]));
    assert.match(
      first.lines[0].text,
      /^0 5 - \d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000 starting pvefw logger$/,
    );
    assert.equal(first.lines[0].time, iso(fw[0].time));
    assert.equal(first.next_start, 5);

    const since = fw[40].time;
    const until = fw[60].time;
    const expected = fw.filter((e) => e.time >= since && e.time <= until);
    const window = await ok('get_node_firewall_log', {
      node: 'pve1',
      since: iso(since),
      until: iso(until),
      limit: 500,
    });
    assert.equal(window.total, expected.length);
    assert.deepEqual(
      window.lines.map((l: any) => l.time),
      expected.map((e) => iso(e.time)),
    );
  });

  test('REST routes answer the same, and refuse what MCP refuses with 400', async () => {
    const syslog = await request(h.url)
      .get('/nodes/pve1/syslog')
      .query({ limit: '3', start: '1', service: 'pvedaemon', since: '2000-01-01' })
      .set(h.auth)
      .expect(200);
    assert.equal(syslog.body.lines.length, 3);
    assert.equal(syslog.body.lines[0].n, 2);
    assert.equal(syslog.body.since, '2000-01-01T00:00:00Z');

    const cluster = await request(h.url).get('/cluster/log').query({ max: '3' }).set(h.auth).expect(200);
    assert.equal(cluster.body.entries.length, 3);

    const fw = await request(h.url)
      .get('/nodes/pve2/firewall/log')
      .query({ limit: '2' })
      .set(h.auth)
      .expect(200);
    assert.equal(fw.body.lines.length, 2);

    const tooMany = await request(h.url)
      .get('/nodes/pve1/firewall/log')
      .query({ limit: '501' })
      .set(h.auth)
      .expect(400);
    assert.match(JSON.stringify(tooMany.body), /limit must be 1-500 lines per page/);
    await request(h.url).get('/nodes/pve1/syslog').query({ since: 'now' }).set(h.auth).expect(400);
  });

  test('get_guest_firewall_log: only the lines of that VM or container, paged; wrong guest type or node is NOT_FOUND', async () => {
    const { tools } = await mcp.listTools();
    const tool = tools.find((t) => t.name === 'get_guest_firewall_log');
    assert.equal(tool?.annotations?.readOnlyHint, true);
    assert.deepEqual((tool?.inputSchema as any).required, ['node', 'vmid']);

    const vm = h.sim.cluster.guest(100)!;
    h.sim.logs.appendFirewallLog(vm.node, {
      vmid: 100,
      level: 6,
      chain: 'tap100i0-IN',
      msg: 'ACCEPT: IN=fwbr100i0 SRC=10.0.0.9 DST=10.0.0.100 PROTO=TCP SPT=51000 DPT=22',
    });
    const mine = h.sim.logs.firewallLog(vm.node).filter((e) => e.vmid === 100);
    const page = await ok('get_guest_firewall_log', { node: vm.node, vmid: 100, limit: 500 });
    assert.equal(page.vmid, 100);
    assert.equal(page.vm_type, 'qemu');
    assert.equal(page.total, mine.length);
    assert.deepEqual(
      page.lines.map((l: any) => l.text),
      mine.map((e) => h.sim.logs.firewallLine(vm.node, e)),
    );
    assert.ok(page.lines.every((l: any) => typeof l.time === 'string'));
    const r = await call('get_guest_firewall_log', { node: vm.node, vmid: '100', limit: 1 });
    assert.match(resultText(r), /^Firewall log of VM 100 on pve\d \(lines 1-1 of \d+\)/);

    const ct = h.sim.cluster.guest(101)!;
    h.sim.logs.appendFirewallLog(ct.node, {
      vmid: 101,
      level: 6,
      chain: 'veth101i0-OUT',
      msg: 'DROP: OUT=fwbr101i0 DPT=25',
    });
    const ctPage = await ok('get_guest_firewall_log', { node: ct.node, vmid: 101, vm_type: 'lxc' });
    assert.ok(ctPage.lines.length > 0);
    assert.ok(ctPage.lines.every((l: any) => l.text.startsWith('101 ')));

    const mark = requests.lastSeq();
    await fails(
      'get_guest_firewall_log',
      { node: ct.node, vmid: 101 },
      'NOT_FOUND',
      /VM 101 not found on node .*vm_type: lxc/s,
    );
    await fails('get_guest_firewall_log', { node: 'pve9', vmid: 100 }, 'NOT_FOUND', /Node 'pve9'/);
    await fails(
      'get_guest_firewall_log',
      { node: vm.node, vmid: 100, vm_type: 'openvz' },
      'VALIDATION',
      /vm_type must be qemu/,
    );
    await fails('get_guest_firewall_log', { node: vm.node, vmid: 99 }, 'VALIDATION', /vmid/);
    assert.equal(
      requests.since(mark).filter((q) => q.path.includes('/firewall/log')).length,
      0,
      'no log is read for a guest that is not there',
    );

    const rest = await request(h.url)
      .get(`/nodes/${ct.node}/guests/101/firewall/log`)
      .query({ vm_type: 'lxc', limit: '1' })
      .set(h.auth)
      .expect(200);
    assert.equal(rest.body.lines.length, 1);
    assert.equal(rest.body.vm_type, 'lxc');
    await request(h.url)
      .get(`/nodes/${ct.node}/guests/101/firewall/log`)
      .query({ vm_type: 'lxc', limit: '0' })
      .set(h.auth)
      .expect(400);
  });
});
