import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, simGuest, type ToolResult } from '../helpers/tools.js';

const TEMPLATE = 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
/** A placeholder tag such as "[node]" or "[uptime]" at the start of a line or a value. */
const TAG = /(^|\s)\[[a-z]+\]/m;

/*
 * What agents and people read: plain words instead of placeholder tags, the new guest's id at the top level of a
 * create tool's result, N/A for a number Proxmox did not report, and hints that name the configured port.
 */
describe('result texts and create results', () => {
  let h: Harness;
  let mcp: Client;

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 24, taskSeconds: 0 }, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        commandPolicy: { ...testConfig([]).commandPolicy, mode: 'audit_only' },
      }),
    );
    mcp = await h.mcp();
    await mcp.listTools(); // the SDK checks every result against the tool's outputSchema from here on
  });
  after(() => h.close());

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await mcp.callTool({ name, arguments: args })) as ToolResult;
    assert.equal(r.isError, undefined, `${name}: ${resultText(r)}`);
    return r;
  };

  test('read tools write plain words, no [node]/[vm]/[uptime]/[storage]/[cmd] tags', async () => {
    const texts: Array<[string, string]> = [];
    for (const [name, args] of [
      ['get_nodes', {}],
      ['get_node_status', { node: 'pve1' }],
      ['get_vms', {}],
      ['get_containers', {}],
      ['get_storage', {}],
      ['list_bridges', {}],
      ['get_cluster_status', {}],
      ['get_vm_config', { node: simGuest(h.sim, 100).node, vmid: 100 }],
      ['get_vm_ip_addresses', { node: simGuest(h.sim, 100).node, vmid: 100 }],
      ['execute_vm_command', { node: simGuest(h.sim, 100).node, vmid: 100, command: 'uname -a' }],
    ] as const) {
      texts.push([name, resultText(await call(name, args))]);
    }
    for (const [name, text] of texts) assert.doesNotMatch(text, TAG, `${name}:\n${text}`);
    const nodes = texts.find(([n]) => n === 'get_nodes')![1];
    assert.match(nodes, /^Proxmox nodes\n\nNode pve1\n/);
    assert.match(nodes, / {2}- Uptime: (\d+d ?)?(\d+h ?)?(\d+m)?\n/);
    assert.match(
      texts.find(([n]) => n === 'execute_vm_command')![1],
      /^Command result\n {2}- Status: SUCCESS/,
    );
  });

  test('a number Proxmox did not report is N/A, not a made-up 0', async () => {
    h.sim.cluster.setNodeOnline('pve3', false);
    try {
      const text = resultText(await call('get_nodes', {}));
      const pve3 = text.slice(text.indexOf('Node pve3'));
      assert.match(pve3, / {2}- Status: OFFLINE\n {2}- Uptime: N\/A\n/);
      assert.doesNotMatch(pve3.split('\n\n')[0], /0\.00 B|Uptime: 0m/);
    } finally {
      h.sim.cluster.setNodeOnline('pve3', true);
    }
  });

  test('create_vm, clone_vm, create_container and restore_backup put the new guest id at the top level', async () => {
    const vm = await call('create_vm', { node: 'pve1', name: 'texts-vm', wait: true });
    const vmid = vm.structuredContent.vmid as number;
    assert.ok(Number.isInteger(vmid), JSON.stringify(vm.structuredContent));
    assert.equal(vmid, vm.structuredContent.metadata.vmid);
    assert.match(resultText(vm), new RegExp(`Guest ID: ${vmid}`));

    const clone = await call('clone_vm', {
      node: simGuest(h.sim, 108).node,
      source_vmid: 108,
      full: false,
      name: 'texts-clone',
      wait: true,
    });
    assert.equal(clone.structuredContent.vmid, clone.structuredContent.metadata.target_vmid);
    assert.notEqual(clone.structuredContent.vmid, 108, 'the new guest, not the source');

    const ct = await call('create_container', { node: 'pve1', ostemplate: TEMPLATE, wait: true });
    assert.ok(Number.isInteger(ct.structuredContent.vmid), JSON.stringify(ct.structuredContent));
    assert.equal(ct.structuredContent.vmid, ct.structuredContent.metadata.vmid);

    const backup = await call('create_backup', { node: 'pve1', vmid, storage: 'nas', wait: true });
    assert.equal(backup.structuredContent.vmid, undefined, 'a backup creates no guest');
    const archive = (
      (await call('list_backups', { vmid, storage: 'nas' })).structuredContent.backups as Array<{
        volid: string;
      }>
    )[0].volid;
    const restored = await call('restore_backup', { node: 'pve1', archive, vmid: 4321, wait: true });
    assert.equal(restored.structuredContent.vmid, 4321);
    // get_job shows it too
    const job = await call('get_job', { job_id: restored.structuredContent.job_id });
    assert.equal(job.structuredContent.vmid, 4321);
  });

  test('an unreachable target: the hint names the configured host and port, not 8006', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await startHarness({ nodes: 1, guests: 0 }, (sim) =>
      testConfig([{ ...simulatorTargetConfig(sim), port }]),
    );
    try {
      const r = (await (await down.mcp()).callTool({ name: 'get_nodes', arguments: {} })) as ToolResult;
      assert.equal(r.isError, true);
      const text = resultText(r);
      assert.ok(text.includes(`Check that 127.0.0.1:${port} (proxmox.host and proxmox.port)`), text);
      assert.doesNotMatch(text, /8006/);
    } finally {
      await down.close();
    }
  });
});
