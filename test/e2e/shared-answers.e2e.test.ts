import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY, startHarness, testConfig, withApiKeys, type Harness } from '../helpers/test-app.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { InventoryService } from '../../src/proxmox/inventory.service.js';
import { VmsService } from '../../src/modules/vms/vms.service.js';
import { vmsText } from '../../src/modules/vms/vms.text.js';
import { isSharedAnswer } from '../../src/common/tools/shared-answer.js';

// While the inventory cache holds one PVE answer, get_vms hands every caller who asks the same the same answer,
// built once (InventoryService.derived), with its text and its direct-path JSON kept beside it
// (src/common/tools/shared-answer.ts). These tests hold that to what users rely on: the same bytes as a fresh
// rendering, never one caller's or one argument set's answer served for another, and a change visible over MCP
// and REST at the same moment, whether our own mutation dropped the cache or it expired.

const LIMITED_KEY = 'limited-key-0123456789abcdef';
/** Target 'short' caches for this long, so a test can watch an answer expire. */
const SHORT_CACHE_MS = 400;

interface McpAnswer {
  raw: string;
  result: {
    isError?: boolean;
    content: Array<{ type: string; text: string }>;
    structuredContent: any;
  };
}

describe('shared get_vms answers while the inventory is cached', () => {
  let h: Harness;
  let nextId = 1;

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 24 }, (sim) =>
      withApiKeys(
        testConfig([
          simulatorTargetConfig(sim, { name: 'main', inventoryCacheMs: 60_000 }),
          simulatorTargetConfig(sim, { name: 'short', inventoryCacheMs: SHORT_CACHE_MS }),
        ]),
        { name: 'limited', secret: LIMITED_KEY, scope: 'read', targets: ['main'] },
      ),
    );
  });
  after(async () => {
    try {
      assert.deepEqual(h.sim.schemaViolations(), [], 'every request the tools sent must pass the PVE schema');
    } finally {
      await h.close();
    }
  });

  /**
   * A raw 2025-era tools/call of get_vms on target 'main' unless `args` names another (the direct path); `viaSdk`
   * adds a _meta key, so the SDK's server answers it.
   */
  async function mcp(args: Record<string, unknown>, key = API_KEY, viaSdk = false): Promise<McpAnswer> {
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'tools/call',
        params: {
          name: 'get_vms',
          arguments: { target: 'main', ...args },
          ...(viaSdk ? { _meta: { 'example.com/trace': 'x' } } : {}),
        },
      }),
    });
    assert.equal(res.status, 200);
    const raw = (await res.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice(6))
      .find((data) => (JSON.parse(data) as { id?: unknown }).id !== undefined);
    assert.ok(raw, 'a JSON-RPC answer');
    const message = JSON.parse(raw) as { result: McpAnswer['result'] };
    return { raw, result: message.result };
  }

  async function rest(query: Record<string, string | number>, key = API_KEY) {
    const qs = new URLSearchParams(
      Object.entries({ target: 'main', ...query }).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const res = await fetch(`${h.url}/vms?${qs}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as any };
  }

  /** The answer is what a fresh rendering of its own structured content gives, and what REST answers. */
  async function assertConsistent(answer: McpAnswer, query: Record<string, string | number>) {
    assert.equal(answer.result.isError, undefined, answer.result.content[0]?.text);
    assert.deepEqual(answer.result.content, [
      { type: 'text', text: vmsText(answer.result.structuredContent) },
    ]);
    const viaRest = await rest(query);
    assert.equal(viaRest.status, 200);
    assert.deepEqual(answer.result.structuredContent, viaRest.body);
  }

  test('a warm call answers the same bytes as the first, and the same as the SDK path and REST', async () => {
    h.server.app.get(InventoryService).invalidate();
    const first = await mcp({});
    const second = await mcp({});
    const third = await mcp({});
    // only the JSON-RPC id differs between the three answers
    const body = (raw: string) => raw.replace(/"id":\d+,/, '"id":0,');
    assert.equal(body(second.raw), body(first.raw));
    assert.equal(body(third.raw), body(first.raw));
    assert.ok(first.result.structuredContent.vms.length > 0);
    await assertConsistent(third, {});
    assert.deepEqual((await mcp({}, API_KEY, true)).result, third.result, 'the SDK path answers the same');
  });

  test('each set of arguments keeps its own answer, however the calls interleave', async () => {
    h.server.app.get(InventoryService).invalidate();
    const cases: Array<{ args: Record<string, string | number>; holds: (vm: any) => boolean }> = [
      { args: {}, holds: () => true },
      { args: { node: 'pve1' }, holds: (vm) => vm.node === 'pve1' },
      { args: { node: 'pve2' }, holds: (vm) => vm.node === 'pve2' },
      { args: { status: 'stopped' }, holds: (vm) => vm.status === 'stopped' },
      {
        args: { status: 'running', node: 'pve1' },
        holds: (vm) => vm.status === 'running' && vm.node === 'pve1',
      },
      { args: { limit: 2 }, holds: () => true },
      { args: { limit: 2, offset: 2 }, holds: () => true },
    ];
    const seen = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (const { args, holds } of cases) {
        const answer = await mcp(args);
        const vms = answer.result.structuredContent.vms as any[];
        assert.ok(vms.every(holds), `${JSON.stringify(args)}: ${JSON.stringify(vms.map((v) => v.vmid))}`);
        if (args.limit !== undefined) assert.equal(vms.length, args.limit);
        await assertConsistent(answer, args);
        const key = JSON.stringify(args);
        const text = answer.result.content[0].text;
        if (round === 1) assert.equal(text, seen.get(key), `${key}: the same answer on the second round`);
        seen.set(key, text);
      }
    }
    assert.equal(new Set(seen.values()).size, cases.length, 'no two argument sets share an answer');
    const paged = (await mcp({ limit: 2, offset: 2 })).result.structuredContent.vms.map((v: any) => v.vmid);
    const all = (await mcp({})).result.structuredContent.vms.map((v: any) => v.vmid);
    assert.deepEqual(paged, all.slice(2, 4));
  });

  test('a caller limited to one target never gets another target’s cached answer', async () => {
    // the admin's call caches target 'short'; the limited key is refused it, over MCP and REST alike
    assert.equal((await mcp({ target: 'short' })).result.isError, undefined);
    const refused = await mcp({ target: 'short' }, LIMITED_KEY);
    assert.equal(refused.result.isError, true);
    assert.match(refused.result.content[0].text, /short/);
    assert.equal((await rest({ target: 'short' }, LIMITED_KEY)).status, 403);
    // its own target's answer is the one everybody gets for it
    const own = await mcp({ target: 'main' }, LIMITED_KEY);
    assert.equal(own.result.isError, undefined);
    assert.equal(own.result.structuredContent.target, 'main');
    assert.deepEqual(own.result, (await mcp({ target: 'main' })).result);
  });

  test('our own mutation: MCP and REST show the change at once', async () => {
    h.server.app.get(InventoryService).invalidate();
    const stopped = ((await mcp({})).result.structuredContent.vms as any[]).find(
      (v) => v.status === 'stopped',
    );
    assert.ok(stopped, 'the simulator has a stopped VM');
    await mcp({}); // warm: the shared answer and its text are in place
    const started = await fetch(`${h.url}/nodes/${stopped.node}/vms/${stopped.vmid}/start?target=main`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ wait: true }),
    });
    assert.ok(started.status < 300, await started.text());
    const viaMcp = await mcp({});
    const row = (viaMcp.result.structuredContent.vms as any[]).find((v) => v.vmid === stopped.vmid);
    assert.equal(row?.status, 'running');
    assert.match(
      viaMcp.result.content[0].text,
      new RegExp(`\\(ID: ${stopped.vmid}\\)\\n  - Status: RUNNING`),
    );
    await assertConsistent(viaMcp, {});
    await fetch(`${h.url}/nodes/${stopped.node}/vms/${stopped.vmid}/stop?target=main`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ wait: true }),
    });
  });

  test('a change made elsewhere: both show it when the cached answer expires, neither before', async () => {
    const vm = ((await mcp({ target: 'short' })).result.structuredContent.vms as any[])[0];
    const guest = h.sim.cluster.guest(vm.vmid);
    assert.ok(guest);
    const before = (await mcp({ target: 'short' })).result;
    const original = String(guest.config.name);
    assert.equal(vm.name, original);
    // not ASCII: the direct path's content-length counts UTF-8 bytes, not characters
    guest.config.name = `${original}-renamé-ü`;
    try {
      // within the lifetime (unless this slow call crossed it): the old answer on both paths
      const cachedMcp = await mcp({ target: 'short' });
      const cachedRest = await rest({ target: 'short' });
      const stillCached = cachedMcp.result.structuredContent.vms[0].name === original;
      if (stillCached) {
        assert.deepEqual(cachedMcp.result, before);
        assert.equal(cachedRest.body.vms[0].name, original);
      }
      await sleep(SHORT_CACHE_MS + 100);
      const fresh = await mcp({ target: 'short' });
      assert.equal(fresh.result.structuredContent.vms[0].name, `${original}-renamé-ü`);
      assert.match(fresh.result.content[0].text, new RegExp(`${original}-renamé-ü \\(ID: ${vm.vmid}\\)`));
      assert.equal((await rest({ target: 'short' })).body.vms[0].name, `${original}-renamé-ü`);
    } finally {
      guest.config.name = original;
    }
  });

  test('a node going offline (invalidated) shows as partial on both paths, text included', async () => {
    const resources = h.server.app.get(InventoryService);
    resources.invalidate();
    await mcp({});
    await mcp({});
    h.sim.cluster.setNodeOnline('pve3', false);
    try {
      assert.equal((await mcp({})).result.structuredContent.partial, false, 'still the cached answer');
      resources.invalidate('main');
      const after = await mcp({});
      assert.equal(after.result.structuredContent.partial, true);
      assert.match(after.result.content[0].text, /Partial result: node\(s\) pve3 did not answer\.$/);
      await assertConsistent(after, {});
    } finally {
      h.sim.cluster.setNodeOnline('pve3', true);
      resources.invalidate();
    }
  });

  test('a shared answer is one frozen object per cached answer; a call that read PVE gets its own', async () => {
    const resources = h.server.app.get(InventoryService);
    const vms = h.server.app.get(VmsService);
    resources.invalidate();
    const fetched = await vms.getVms({ target: 'main' });
    assert.equal(isSharedAnswer(fetched), false, 'the call that read PVE built its own answer');
    const a = await vms.getVms({ target: 'main' });
    const b = await vms.getVms({ target: 'main' });
    assert.equal(a, b);
    assert.ok(isSharedAnswer(a));
    assert.notEqual(await vms.getVms({ target: 'main', node: 'pve1' }), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.vms) && Object.isFrozen(a.vms[0].memory));
    assert.throws(() => {
      (a.vms[0] as { status: string }).status = 'stopped';
    }, TypeError);
    assert.deepEqual(a, fetched);
    resources.invalidate();
    await vms.getVms({ target: 'main' });
    assert.notEqual(await vms.getVms({ target: 'main' }), a, 'a new PVE answer: a new shared answer');
  });
});
