import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { E2E_TAG, openScenarioTarget, storySteps, type Job, type ScenarioTarget } from './harness.js';

// Story: an operator creates a container from a template, starts it, gives it more memory and a bigger disk,
// and deletes it (approved). Running a command in it needs the SSH transport (ssh section in the config); the
// scenario server has none, so that step is left to a story of its own (docs/testing.md, TODO).
describe('scenario: a container from a template to deletion, resized on the way', () => {
  let t: ScenarioTarget;
  let vmid: number;
  let selector: string;
  const step = storySteps();

  before(async () => (t = await openScenarioTarget()));
  after(() => t?.close());

  type ActionResult = { action: string; results: Array<{ ok: boolean; vmid: number; error?: string }> };
  const expectOk = (r: ActionResult) => {
    assert.equal(r.results.length, 1, JSON.stringify(r));
    assert.ok(r.results[0].ok, r.results[0].error);
    assert.equal(r.results[0].vmid, vmid);
  };
  const rootfsGiB = async () => {
    const config = (await t.ops.tool('get_container_config', { node: t.node, vmid })).config;
    const size = /size=(\d+)G/.exec(String(config.rootfs))?.[1];
    assert.ok(size, `rootfs has a size: ${config.rootfs}`);
    return { gib: Number(size), memory: Number(config.memory) };
  };

  step('create_container from a template on the node, tagged', async () => {
    const templates = await t.ops.tool('list_templates', { node: t.node });
    const ostemplate =
      (t.kind === 'live' ? process.env.PROXMOX_MCP_E2E_CT_TEMPLATE : undefined) ??
      templates.templates[0]?.volid;
    assert.ok(
      ostemplate,
      `no container template on ${t.node} (download one or set PROXMOX_MCP_E2E_CT_TEMPLATE)`,
    );
    const job = await t.ops.tool<Job>('create_container', {
      node: t.node,
      ostemplate,
      hostname: `${E2E_TAG}-ct-${randomBytes(2).toString('hex')}`,
      tags: [E2E_TAG],
      description: 'Created by the proxmox-mcp-plus scenario suite (container); deleted when the story ends.',
      cores: 1,
      memory: 512,
      disk_size: 4,
      ...(t.storage ? { storage: t.storage } : {}),
      ...(t.bridge ? { network_bridge: t.bridge } : {}),
    });
    vmid = Number(job.metadata.vmid);
    assert.ok(Number.isInteger(vmid) && vmid >= 100, JSON.stringify(job.metadata));
    t.created(vmid, 'lxc');
    await t.ops.finish(job);
    selector = `${t.node}:${vmid}`;
    assert.equal((await t.ops.container(t.node, vmid))?.status, 'stopped');
    const config = (await t.ops.tool('get_container_config', { node: t.node, vmid })).config;
    assert.match(String(config.tags), new RegExp(`(^|;)${E2E_TAG}($|;)`));
  });

  step('start_container (by node:vmid selector) runs it', async () => {
    expectOk(
      await t.ops.tool<ActionResult>('start_container', { selector, wait: true, wait_timeout_seconds: 300 }),
    );
    assert.equal((await t.ops.container(t.node, vmid))?.status, 'running');
  });

  step('update_container_resources: more memory at once, and the disk grows by 1 GiB (a job)', async () => {
    const before = await rootfsGiB();
    expectOk(
      await t.ops.tool<ActionResult>('update_container_resources', {
        selector,
        memory: 1024,
        disk_gb: 1,
        wait: true,
        wait_timeout_seconds: 300,
      }),
    );
    const after = await rootfsGiB();
    assert.equal(after.memory, 1024);
    assert.equal(after.gib, before.gib + 1);
  });

  step('delete_container with force on the running container (approved): gone', async () => {
    expectOk(
      await t.ops.approvedTool<ActionResult>('delete_container', {
        selector,
        force: true,
        wait: true,
        wait_timeout_seconds: 300,
      }),
    );
    assert.equal(await t.ops.container(t.node, vmid), undefined);
  });
});
