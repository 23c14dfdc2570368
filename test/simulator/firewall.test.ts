import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PveSimulator } from '../../src/simulator/index.js';
import { firewallOf } from '../../src/simulator/firewall-state.js';
import { refusedWith500, simulatorApiSuite, type Json, type SimClient } from '../helpers/sim-client.js';

/**
 * The simulated pve-firewall API: rule lists with positions and digests (assert_if_modified), PVE's `moveto`
 * renumbering, verify_rule's refusals, options per scope, and the seeded cluster aliases, ipsets and groups.
 */
describe('simulator: firewall rules, options, aliases and ipsets', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({ nodes: 2, guests: 4 }, (s) => ({ sim, api } = s));

  const comments = async (path: string) =>
    ((await api.data(`${path}/rules`)) as Json[]).map((r) => `${r.pos}:${r.comment ?? r.action}`);

  test('the seeded cluster firewall: off, DROP in, rules with positions and one digest', async () => {
    const options = await api.data('/cluster/firewall/options');
    assert.equal(options.enable, 0);
    assert.equal(options.policy_in, 'DROP');
    assert.match(options.digest, /^[0-9a-f]{40}$/);
    const rules: Json[] = await api.data('/cluster/firewall/rules');
    assert.deepEqual(
      rules.map((r) => r.pos),
      [0, 1, 2],
    );
    assert.equal(new Set(rules.map((r) => r.digest)).size, 1);
    assert.equal(rules[1].macro, 'SSH');
    const aliases: Json[] = await api.data('/cluster/firewall/aliases');
    assert.deepEqual(
      aliases.map((a) => a.name),
      ['admin_net', 'backup_server', 'monitoring'],
    );
    const entries: Json[] = await api.data('/cluster/firewall/ipset/trusted');
    assert.deepEqual(
      entries.map((e) => `${e.nomatch ? '!' : ''}${e.cidr}`),
      ['192.168.10.0/24', '!192.168.10.66', '192.168.20.5'],
    );
    await refusedWith500(api.get('/cluster/firewall/ipset/nothere'), /no such IPSet 'nothere'/);
  });

  test('POST puts the rule first, disabled unless enable is given; verify_rule refuses bad fields with 400', async () => {
    const node = sim.cluster.guest(100)!.node;
    const path = `/nodes/${node}/qemu/100/firewall`;
    assert.equal(
      (await api.post(`${path}/rules`, { type: 'in', action: 'ACCEPT', comment: 'a' })).status,
      200,
    );
    assert.equal(
      (await api.post(`${path}/rules`, { type: 'in', action: 'DROP', comment: 'b', enable: '1' })).status,
      200,
    );
    const rules: Json[] = await api.data(`${path}/rules`);
    assert.deepEqual(
      rules.map((r) => `${r.comment}:${r.enable}`),
      ['b:1', 'a:0'],
    );
    const bad = await api.post(`${path}/rules`, {
      type: 'in',
      action: 'ACCEPT',
      dport: '22',
      source: 'nosuch',
      iface: 'vmbr0',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.json.errors).sort(), ['iface', 'proto', 'source']);
    assert.match(bad.json.errors.source, /no such alias 'nosuch'/);
    const group = await api.post(`${path}/rules`, { type: 'group', action: 'nogroup' });
    assert.match(group.json.errors.action, /no such security group 'nogroup'/);
    const ok = await api.post(`${path}/rules`, { type: 'group', action: 'webserver', source: '+dc/trusted' });
    assert.equal(ok.status, 200);
    await refusedWith500(api.get(`/nodes/${node}/lxc/100/firewall/rules`), /does not exist/);
  });

  test('digest: a stale one is refused on PUT and DELETE; the current one passes', async () => {
    const rules: Json[] = await api.data('/cluster/firewall/rules');
    const digest = rules[0].digest;
    firewallOf(sim.cluster).cluster.rules.push({ type: 'out', action: 'ACCEPT', comment: 'meanwhile' });
    await refusedWith500(
      api.put('/cluster/firewall/rules/0', { type: 'in', comment: 'x', digest }),
      /detected modified configuration - file changed by other user\? Try again\./,
    );
    await refusedWith500(api.del('/cluster/firewall/rules/0', { digest }), /detected modified configuration/);
    const now = (await api.data('/cluster/firewall/rules'))[0].digest;
    assert.notEqual(now, digest);
    assert.equal(
      (await api.put('/cluster/firewall/rules/3', { type: 'out', comment: 'changed', digest: now })).status,
      200,
    );
    await refusedWith500(api.del('/cluster/firewall/rules/9'), /no rule at position 9/);
    const missingType = await api.put('/cluster/firewall/rules/0', { comment: 'x' });
    assert.equal(missingType.status, 400);
    assert.equal(missingType.json.errors.type, 'property is missing');
  });

  test('moveto renumbers like PVE: up lands at moveto, down lands before the rule that was at moveto', async () => {
    const path = '/cluster/firewall';
    assert.deepEqual(await comments(path), ['0:blocklist', '1:SSH from admins', '2:ACCEPT', '3:changed']);
    await api.put(`${path}/rules/0`, { moveto: '2' });
    assert.deepEqual(await comments(path), ['0:SSH from admins', '1:blocklist', '2:ACCEPT', '3:changed']);
    await api.put(`${path}/rules/3`, { moveto: '0' });
    assert.deepEqual(await comments(path), ['0:changed', '1:SSH from admins', '2:blocklist', '3:ACCEPT']);
    await api.put(`${path}/rules/0`, { moveto: '9' });
    assert.deepEqual(await comments(path), ['0:SSH from admins', '1:blocklist', '2:ACCEPT', '3:changed']);
    assert.equal((await api.del(`${path}/rules/3`)).status, 200);
    assert.deepEqual(await comments(path), ['0:SSH from admins', '1:blocklist', '2:ACCEPT']);
  });

  test('options: per scope, digest-guarded, delete resets; a host firewall defaults to an empty file', async () => {
    const host = await api.data('/nodes/pve1/firewall/options');
    assert.deepEqual(Object.keys(host), ['digest']);
    assert.equal((await api.put('/nodes/pve1/firewall/options', { enable: '0', nosmurfs: '1' })).status, 200);
    const after = await api.data('/nodes/pve1/firewall/options');
    assert.equal(after.enable, 0);
    assert.equal(after.nosmurfs, 1);
    await refusedWith500(
      api.put('/nodes/pve1/firewall/options', { delete: 'nosmurfs', digest: host.digest }),
      /detected modified configuration/,
    );
    assert.equal(
      (await api.put('/nodes/pve1/firewall/options', { delete: 'nosmurfs', digest: after.digest })).status,
      200,
    );
    assert.equal((await api.data('/nodes/pve1/firewall/options')).nosmurfs, undefined);
  });
});
