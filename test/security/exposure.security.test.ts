import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ConfigError } from '../../src/config/app-config.js';
import { startServer } from '../../src/cli/serve.command.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { SCHEMA_PATH, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { callTool, textOf } from './helpers.js';

const operationsOf = (doc: { paths: Record<string, Record<string, any>> }) =>
  Object.values(doc.paths)
    .flatMap((methods) => Object.values(methods))
    .map((op) => op['x-mcp-tool']?.name as string | undefined)
    .filter(Boolean);

for (const [kind, lists] of [
  ['tool_denylist', { toolDenylist: ['get_storage', 'cancel_job'], toolAllowlist: [] }],
  ['tool_allowlist', { toolAllowlist: ['get_vms', 'get_nodes', 'list_targets'], toolDenylist: [] }],
] as const) {
  describe(`mcp.${kind}: hidden from tools/list and the OpenAPI document, refused when called`, () => {
    let h: Harness;

    before(async () => {
      h = await startHarness({}, (sim) =>
        testConfig([simulatorTargetConfig(sim)], {
          mcp: {
            ...testConfig([]).mcp,
            toolAllowlist: [...lists.toolAllowlist],
            toolDenylist: [...lists.toolDenylist],
          },
        }),
      );
    });
    after(() => h.close());

    const hidden = kind === 'tool_denylist' ? ['get_storage', 'cancel_job'] : ['get_storage', 'list_jobs'];

    test('an admin key does not see the hidden tools anywhere', async () => {
      const listed = (await (await h.mcp()).listTools()).tools.map((t) => t.name);
      const documented = operationsOf(
        (await request(h.url).get('/openapi.json').set(h.auth).expect(200)).body,
      );
      for (const name of hidden) {
        assert.ok(!listed.includes(name), `${name} not in tools/list`);
        assert.ok(!documented.includes(name), `${name} not in openapi.json`);
      }
      if (kind === 'tool_allowlist')
        assert.deepEqual(listed.sort(), ['get_nodes', 'get_vms', 'list_targets']);
      else assert.ok(listed.includes('get_vms'));
    });

    test('calling a hidden tool is FORBIDDEN on every path, and no request reaches PVE', async () => {
      const before = h.sim.totalRequests;
      const viaMcp = await callTool(await h.mcp(), 'get_storage');
      assert.equal(viaMcp.isError, true);
      assert.match(
        textOf(viaMcp),
        new RegExp(
          `^FORBIDDEN: Tool 'get_storage' is not available on this server: it is ${kind === 'tool_denylist' ? 'in mcp.tool_denylist' : 'not in mcp.tool_allowlist'}`,
        ),
      );
      const viaRoute = await request(h.url).post('/get_storage').set(h.auth).send({});
      assert.equal(viaRoute.status, 403);
      assert.equal(viaRoute.body.code, 'FORBIDDEN');
      await request(h.url).get('/storage').set(h.auth).expect(403);
      assert.equal(h.sim.totalRequests, before);
    });
  });
}

describe('exposure settings are checked at boot against the real tool names', () => {
  test('an unknown name in the allowlist, denylist or a key tools list stops the start with every problem', async () => {
    const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    try {
      const base = testConfig([simulatorTargetConfig(sim)]);
      await assert.rejects(
        startServer({
          ...base,
          mcp: { ...base.mcp, toolDenylist: ['get_vms', 'delete_everything'] },
          http: {
            ...base.http,
            apiKeys: [
              ...base.http.apiKeys,
              { name: 'k', secret: 'k'.repeat(20), scope: 'read', tools: ['get_vmz'] },
            ],
          },
        }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(
            error.message,
            /mcp\.tool_denylist: unknown tool delete_everything; this server has: .*get_vms/,
          );
          assert.match(error.message, /security\.api_keys\[k\]\.tools: unknown tool get_vmz/);
          return true;
        },
      );
    } finally {
      await sim.stop();
    }
  });
});
