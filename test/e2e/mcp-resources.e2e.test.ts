import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { simulatorTargetConfig, simulatorTargetEnv } from '../../src/simulator/index.js';
import {
  API_KEY,
  SCHEMA_PATH,
  startHarness,
  testConfig,
  withApiKeys,
  type Harness,
} from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';

// MCP resources, resource templates, prompts and argument completion: served to 2026-07-28 clients (v2 SDK,
// pinned) and 2025-era clients (SDK 1.32) from the same /mcp, and over stdio. A resource is the structured result
// of the read tools behind it, run as the caller: what a key may not call it may not read.

const MODERN = '2026-07-28';
/** A key limited to two tools (exposure per key): it sees only the resources those tools serve. */
const NODES_ONLY_KEY = 'nodes-only-key-0123456789abcdef';
const READER_KEY = 'reader-key-0123456789abcdef';

type AnyClient = ModernClient | LegacyClient;

/** The JSON of a resource's one content. */
function json(read: { contents: Array<{ uri: string; mimeType?: string; text?: unknown }> }): any {
  assert.equal(read.contents.length, 1);
  assert.equal(read.contents[0].mimeType, 'application/json');
  return JSON.parse(String(read.contents[0].text));
}

describe('MCP resources, prompts and completion', () => {
  let h: Harness;
  let dir: string;
  const opened: AnyClient[] = [];

  before(async () => {
    h = await startHarness({}, (sim) =>
      withApiKeys(
        testConfig([simulatorTargetConfig(sim)]),
        {
          name: 'nodes-only',
          secret: NODES_ONLY_KEY,
          scope: 'admin',
          tools: ['get_nodes', 'get_node_status'],
        },
        { name: 'reader', secret: READER_KEY, scope: 'read' },
      ),
    );
    dir = mkdtempSync(join(tmpdir(), 'pmp-resources-'));
  });
  after(async () => {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function modern(key = API_KEY): Promise<ModernClient> {
    const client = new ModernClient(
      { name: 'resources-e2e', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    opened.push(client);
    return client;
  }

  async function legacy(key = API_KEY): Promise<LegacyClient> {
    const client = new LegacyClient({ name: 'resources-e2e-2025', version: '1.0.0' });
    await client.connect(
      new LegacyHttpTransport(new URL(`${h.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    opened.push(client);
    return client;
  }

  async function tool(client: AnyClient, name: string, args: Record<string, unknown> = {}) {
    const r = (await client.callTool({ name, arguments: args })) as ToolResult;
    assert.equal(r.isError, undefined, `${name}: ${resultText(r)}`);
    return r.structuredContent;
  }

  test('both eras declare the capabilities and list the same resources, templates and prompts', async () => {
    const [m, l] = await Promise.all([modern(), legacy()]);
    assert.ok(m.getServerCapabilities()?.resources);
    assert.ok(m.getServerCapabilities()?.prompts);
    assert.ok(m.getServerCapabilities()?.completions);
    assert.ok(l.getServerCapabilities()?.completions);

    const [mr, lr] = await Promise.all([m.listResources(), l.listResources()]);
    assert.deepEqual(
      mr.resources.map((r) => r.uri),
      ['pve://cluster/inventory', 'pve://nodes'],
    );
    assert.deepEqual(mr.resources, lr.resources);
    assert.ok(mr.resources.every((r) => r.mimeType === 'application/json'));

    const [mt, lt] = await Promise.all([m.listResourceTemplates(), l.listResourceTemplates()]);
    assert.deepEqual(
      mt.resourceTemplates.map((t) => t.uriTemplate),
      [
        'pve://nodes/{node}{?target}',
        'pve://guests/{vmid}/config{?target}',
        'pve://jobs/{job_id}{?target}',
        'pve://jobs/{job_id}/log{?target}',
      ],
    );
    assert.deepEqual(mt.resourceTemplates, lt.resourceTemplates);

    const [mp, lp] = await Promise.all([m.listPrompts(), l.listPrompts()]);
    assert.deepEqual(
      mp.prompts.map((p) => p.name),
      [
        'safe_vm_change',
        'backup_and_verify_restore',
        'cleanup_old_snapshots',
        'investigate_slow_guest',
        'create_and_boot_vm',
        'container_from_template',
      ],
    );
    assert.deepEqual(mp.prompts, lp.prompts);
    const change = mp.prompts.find((p) => p.name === 'safe_vm_change');
    assert.deepEqual(
      change?.arguments?.map((a) => [a.name, a.required]),
      [
        ['vmid', true],
        ['change', true],
        ['node', false],
      ],
    );
  });

  test('each resource kind reads as the JSON of the tool behind it, in both eras', async () => {
    const [m, l] = await Promise.all([modern(), legacy()]);
    const nodes = await tool(l, 'get_nodes');
    assert.deepEqual(json(await m.readResource({ uri: 'pve://nodes' })), nodes);
    // ?target= picks the configured cluster, as the tools' target argument does
    assert.deepEqual(json(await m.readResource({ uri: 'pve://nodes?target=default' })), nodes);
    assert.deepEqual(json(await l.readResource({ uri: 'pve://nodes' })), nodes);

    const inventory = json(await m.readResource({ uri: 'pve://cluster/inventory' }));
    assert.deepEqual(inventory.vms, await tool(l, 'get_vms'));
    assert.deepEqual(inventory.containers, await tool(l, 'get_containers'));
    assert.deepEqual(
      inventory.nodes.nodes.map((n: { node: string }) => n.node),
      nodes.nodes.map((n: { node: string }) => n.node),
    );

    const node = nodes.nodes[0].node as string;
    const status = json(await l.readResource({ uri: `pve://nodes/${node}` }));
    assert.equal(status.node, node);
    assert.deepEqual(
      Object.keys(status).sort(),
      Object.keys(await tool(l, 'get_node_status', { node })).sort(),
    );

    const vm = inventory.vms.vms[0] as { vmid: number; node: string };
    const ct = inventory.containers.containers[0] as { vmid: number; node: string };
    assert.deepEqual(
      json(await m.readResource({ uri: `pve://guests/${vm.vmid}/config` })),
      await tool(l, 'get_vm_config', { node: vm.node, vmid: vm.vmid }),
    );
    assert.deepEqual(
      json(await l.readResource({ uri: `pve://guests/${ct.vmid}/config` })),
      await tool(l, 'get_container_config', { node: ct.node, vmid: ct.vmid }),
    );

    const job = await tool(l, 'create_snapshot', {
      node: vm.node,
      vmid: vm.vmid,
      snapname: 'res-check',
      wait: true,
    });
    assert.equal(job.status, 'completed');
    const read = json(await m.readResource({ uri: `pve://jobs/${job.job_id}` }));
    assert.deepEqual(read, await tool(l, 'get_job', { job_id: job.job_id }));
    assert.equal(read.upid, job.upid);
    assert.deepEqual(
      json(await l.readResource({ uri: `pve://jobs/${job.job_id}/log` })),
      await tool(l, 'get_task_log', { node: job.node, upid: job.upid }),
    );
  });

  test('unknown URIs and missing things are resource-not-found; a bad vmid names the field', async () => {
    const [m, l] = await Promise.all([modern(), legacy()]);
    for (const client of [m, l]) {
      await assert.rejects(client.readResource({ uri: 'pve://nothing/here' }), (e: any) => {
        assert.equal(e.code, -32602, e.message);
        assert.match(
          e.message,
          /Resource pve:\/\/nothing\/here not found: known are pve:\/\/cluster\/inventory/,
        );
        return true;
      });
    }
    await assert.rejects(m.readResource({ uri: 'pve://guests/999999/config' }), (e: any) => {
      assert.equal(e.code, -32602);
      assert.match(e.message, /no VM or container 999999/);
      return true;
    });
    await assert.rejects(
      l.readResource({ uri: 'pve://jobs/00000000-0000-4000-8000-000000000000' }),
      (e: any) => {
        assert.equal(e.code, -32602);
        assert.match(e.message, /not found/i);
        return true;
      },
    );
    await assert.rejects(m.readResource({ uri: 'pve://guests/abc/config' }), /vmid must be a guest ID/);
    await assert.rejects(m.readResource({ uri: 'pve://nodes?colour=red' }), (e: any) => {
      assert.equal(e.code, -32602);
      assert.match(e.message, /the only query a resource accepts is \?target=<name>/);
      return true;
    });
    await assert.rejects(l.readResource({ uri: 'pve://nodes?target=nope' }), /nope/);
  });

  test('a caller reads only what its tools allow: unlisted resources are refused', async () => {
    const limited = await modern(NODES_ONLY_KEY);
    assert.deepEqual(
      (await limited.listResources()).resources.map((r) => r.uri),
      ['pve://nodes'],
    );
    assert.deepEqual(
      (await limited.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate),
      ['pve://nodes/{node}{?target}'],
    );
    assert.ok(json(await limited.readResource({ uri: 'pve://nodes' })).nodes.length > 0);
    const before = h.sim.requests.length;
    await assert.rejects(limited.readResource({ uri: 'pve://cluster/inventory' }), (e: any) => {
      assert.equal(e.code, -32600, e.message);
      assert.match(
        e.message,
        /FORBIDDEN: reading pve:\/\/cluster\/inventory needs the tools get_vms, get_containers/,
      );
      return true;
    });
    assert.equal(h.sim.requests.length, before, 'nothing was read from Proxmox for the refused resource');

    // a read-scope key reads what its read tools allow
    const reader = await legacy(READER_KEY);
    assert.ok((await reader.listResources()).resources.some((r) => r.uri === 'pve://cluster/inventory'));
    assert.ok(json(await reader.readResource({ uri: 'pve://nodes' })).nodes.length > 0);
  });

  test('a tool the exposure list hides takes its resources with it, for every key; completion stops at 100', async () => {
    // a larger cluster, for completion's limit of 100 values
    const hidden = await startHarness({ guests: 150 }, (sim) => {
      const base = testConfig([simulatorTargetConfig(sim)]);
      return { ...base, mcp: { ...base.mcp, toolDenylist: ['get_task_log'] } };
    });
    try {
      const admin = await hidden.mcp();
      assert.deepEqual(
        (await admin.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate),
        [
          'pve://nodes/{node}{?target}',
          'pve://guests/{vmid}/config{?target}',
          'pve://jobs/{job_id}{?target}',
        ],
      );
      await assert.rejects(admin.readResource({ uri: 'pve://jobs/x/log' }), (e: any) => {
        assert.equal(e.code, -32600, e.message);
        assert.match(e.message, /needs the tool get_task_log, which this caller may not call/);
        return true;
      });

      const many = await admin.complete({
        ref: { type: 'ref/resource', uri: 'pve://guests/{vmid}/config{?target}' },
        argument: { name: 'vmid', value: '' },
      });
      assert.equal(many.completion.values.length, 100);
      assert.equal(many.completion.hasMore, true);
      assert.ok((many.completion.total ?? 0) > 100, JSON.stringify(many.completion.total));
    } finally {
      await hidden.close();
    }
  });

  test('prompts render the workflow with the arguments; a missing or unknown argument is refused', async () => {
    const [m, l] = await Promise.all([modern(), legacy()]);
    const got = await m.getPrompt({
      name: 'safe_vm_change',
      arguments: { vmid: '100', change: 'memory to 4096 MiB', node: 'pve1' },
    });
    assert.equal(got.messages.length, 1);
    assert.equal(got.messages[0].role, 'user');
    const text = (got.messages[0].content as { text: string }).text;
    assert.match(text, /guest 100 on node pve1: memory to 4096 MiB/);
    assert.ok(
      text.indexOf('create_snapshot') < text.indexOf('update_vm_config'),
      'snapshot before the change',
    );
    assert.match(text, /rollback_snapshot/);

    const backup = await l.getPrompt({
      name: 'backup_and_verify_restore',
      arguments: { vmid: '101', storage: 'nas' },
    });
    const steps = (backup.messages[0].content as { text: string }).text;
    for (const t of ['create_backup', 'list_backups', 'restore_backup', 'get_next_vmid'])
      assert.match(steps, new RegExp(t));
    assert.ok(steps.indexOf('create_backup') < steps.indexOf('restore_backup'));

    for (const name of ['cleanup_old_snapshots', 'investigate_slow_guest']) {
      const p = await m.getPrompt({ name, arguments: { vmid: '100' } });
      assert.match((p.messages[0].content as { text: string }).text, /guest 100/i);
    }

    for (const client of [m, l]) {
      await assert.rejects(
        client.getPrompt({ name: 'safe_vm_change', arguments: { vmid: '100' } }),
        (e: any) => {
          assert.equal(e.code, -32602);
          assert.match(e.message, /missing required argument 'change'/);
          return true;
        },
      );
    }
    await assert.rejects(
      m.getPrompt({ name: 'investigate_slow_guest', arguments: { vmid: '100', colour: 'red' } }),
      /unknown argument 'colour'/,
    );
    await assert.rejects(
      m.getPrompt({ name: 'investigate_slow_guest', arguments: { vmid: 'web' } }),
      /'vmid' must be a guest ID/,
    );
    await assert.rejects(l.getPrompt({ name: 'no_such_prompt' }), /Unknown prompt 'no_such_prompt'/);
    await assert.rejects(
      m.getPrompt({ name: 'safe_vm_change', arguments: { vmid: '100', change: 'x'.repeat(501) } }),
      /argument 'change' is longer than 500 characters/,
    );
  });

  test('completion fills node, vmid, storage, snapshot, ISO and template values from the inventory', async () => {
    const [m, l] = await Promise.all([modern(), legacy()]);
    const nodeRef = { type: 'ref/resource' as const, uri: 'pve://nodes/{node}{?target}' };
    const nodes = (await tool(l, 'get_nodes')).nodes.map((n: { node: string }) => n.node).sort();
    const all = await m.complete({ ref: nodeRef, argument: { name: 'node', value: '' } });
    assert.deepEqual(all.completion.values, nodes);
    assert.equal(all.completion.hasMore, false);
    const targets = await l.complete({ ref: nodeRef, argument: { name: 'target', value: 'd' } });
    assert.deepEqual(targets.completion.values, ['default']);
    const one = await l.complete({ ref: nodeRef, argument: { name: 'node', value: nodes[0] } });
    assert.ok(one.completion.values.includes(nodes[0]));
    assert.ok(one.completion.values.every((v) => v.startsWith(nodes[0])));

    const vms = (await tool(l, 'get_vms')).vms.map((g: { vmid: number }) => String(g.vmid));
    const cts = (await tool(l, 'get_containers')).containers.map((g: { vmid: number }) => String(g.vmid));
    const ids = await m.complete({
      ref: { type: 'ref/resource', uri: 'pve://guests/{vmid}/config' },
      argument: { name: 'vmid', value: '1' },
    });
    assert.deepEqual(
      [...ids.completion.values].sort(),
      [...vms, ...cts].filter((v) => v.startsWith('1')).sort(),
    );

    const prompt = (name: string) => ({ type: 'ref/prompt' as const, name });
    const storages = (await tool(l, 'get_storage')).storages.map((s: { storage: string }) => s.storage);
    const st = await l.complete({
      ref: prompt('backup_and_verify_restore'),
      argument: { name: 'storage', value: '' },
    });
    assert.deepEqual([...st.completion.values].sort(), [...new Set<string>(storages)].sort());

    // a snapshot name needs the guest: context.arguments.vmid
    const vm = (await tool(l, 'get_vms')).vms[0] as { vmid: number; node: string };
    await tool(l, 'create_snapshot', { node: vm.node, vmid: vm.vmid, snapname: 'complete-me', wait: true });
    const snapshots = (await tool(l, 'list_snapshots', { node: vm.node, vmid: vm.vmid })).snapshots
      .map((s: { name: string }) => s.name)
      .filter((n: string) => n !== 'current');
    const keep = await m.complete({
      ref: prompt('cleanup_old_snapshots'),
      argument: { name: 'keep_snapshot', value: '' },
      context: { arguments: { vmid: String(vm.vmid) } },
    });
    assert.deepEqual([...keep.completion.values].sort(), [...snapshots].sort());
    assert.ok(keep.completion.values.includes('complete-me'));
    const prefixed = await l.complete({
      ref: prompt('cleanup_old_snapshots'),
      argument: { name: 'keep_snapshot', value: 'comp' },
      context: { arguments: { vmid: String(vm.vmid) } },
    });
    assert.deepEqual(prefixed.completion.values, ['complete-me']);
    const noGuest = await m.complete({
      ref: prompt('cleanup_old_snapshots'),
      argument: { name: 'keep_snapshot', value: '' },
    });
    assert.deepEqual(
      noGuest.completion.values,
      [],
      'without context.arguments.vmid there is no guest to ask',
    );

    const isos = (await tool(l, 'list_isos')).isos.map((i: { volid: string }) => i.volid);
    const templates = (await tool(l, 'list_templates')).templates.map((i: { volid: string }) => i.volid);
    assert.ok(isos.length > 0 && templates.length > 0, 'the simulator seeds ISOs and templates');
    const iso = await m.complete({ ref: prompt('create_and_boot_vm'), argument: { name: 'iso', value: '' } });
    assert.deepEqual([...iso.completion.values].sort(), [...new Set<string>(isos)].sort());
    const tpl = await l.complete({
      ref: prompt('container_from_template'),
      argument: { name: 'ostemplate', value: templates[0].slice(0, 6) },
    });
    assert.ok(tpl.completion.values.includes(templates[0]));
    assert.ok(tpl.completion.values.every((v) => templates.includes(v)));

    // an argument the ref does not declare completes to nothing; an unknown ref is refused
    const none = await m.complete({ ref: nodeRef, argument: { name: 'iso', value: '' } });
    assert.deepEqual(none.completion.values, []);
    await assert.rejects(
      m.complete({ ref: prompt('no_such_prompt'), argument: { name: 'vmid', value: '' } }),
      /Unknown prompt 'no_such_prompt'/,
    );
  });

  test('over stdio a pinned client lists and reads resources and gets a prompt', async () => {
    const client = new ModernClient(
      { name: 'resources-stdio', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['bin/proxmox-mcp-plus.js', 'stdio'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          PVE_API_SCHEMA: SCHEMA_PATH,
          ...simulatorTargetEnv(h.sim),
          PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
          LOG_LEVEL: 'error',
        },
        stderr: 'pipe',
      }),
    );
    opened.push(client);
    const { resources } = await client.listResources();
    assert.ok(resources.some((r) => r.uri === 'pve://cluster/inventory'));
    const nodes = json(await client.readResource({ uri: 'pve://nodes' }));
    assert.deepEqual(
      nodes.nodes.map((n: { node: string }) => n.node).sort(),
      h.sim.cluster
        .nodes()
        .map((n) => n.name)
        .sort(),
    );
    const p = await client.getPrompt({ name: 'investigate_slow_guest', arguments: { vmid: '100' } });
    assert.match((p.messages[0].content as { text: string }).text, /get_node_status/);
  });
});
