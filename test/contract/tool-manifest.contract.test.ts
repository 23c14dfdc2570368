import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../src/app.setup.js';
import { stdioToolsFromManifest } from '../../src/cli/stdio.command.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { placeholderConfig } from '../../src/config/placeholder-config.js';
import { ToolRegistry } from '../../src/mcp/registry/tool-registry.js';
import { readServerInfo } from '../../src/mcp/server-info.js';
import { readToolManifest, TOOL_MANIFEST_FILE } from '../../src/mcp/tool-manifest.js';
import { McpServerFactory } from '../../src/mcp/transport/mcp-server.factory.js';
import { STDIO_PRINCIPAL } from '../../src/mcp/transport/stdio-opener.js';
import { testConfig } from '../helpers/test-app.js';

// The stdio fast start answers tools/list from this file before the application exists: it must be exactly what
// the application serves, or an MCP client sees tools that do not exist (or misses some).
const read = readToolManifest(readServerInfo().version);

/** A configuration as the loader builds it from the environment (a placeholder target; nothing is contacted). */
function envConfig(env: Record<string, string>, readOnly = false): AppConfig {
  const config = placeholderConfig({ LOG_LEVEL: 'silent', ...env });
  return { ...config, targets: config.targets.map((t) => ({ ...t, readOnly })) };
}

async function withApp<T>(config: AppConfig, use: (factory: McpServerFactory, registry: ToolRegistry) => T) {
  const { app } = await createApp(config);
  try {
    return use(app.get(McpServerFactory), app.get(ToolRegistry));
  } finally {
    await app.close();
  }
}

test('the build-time tool manifest is present, fresh and equal to the live tool table (npm run build)', async () => {
  assert.ok(
    read.ok,
    `${read.ok || read.reason}: run \`npm run build\` (tsc, then scripts/write-tool-manifest.mjs)`,
  );
  const { manifest } = read;
  await withApp(
    testConfig([], { jobs: { sqlitePath: ':memory:', pollIntervalMs: 0 } }),
    (factory, registry) => {
      assert.deepEqual(manifest.tools, factory.tools(), `${TOOL_MANIFEST_FILE} is stale: run npm run build`);
      assert.deepEqual(
        manifest.facts,
        registry.all().map((t) => ({
          name: t.name,
          risk: t.options.risk,
          ...(t.options.scope && { scope: t.options.scope }),
          ...(t.toolset && { toolset: t.toolset }),
        })),
      );
    },
  );
});

for (const [label, config] of [
  ['no exposure lists', () => envConfig({})],
  ['a denylist and a read-only target', () => envConfig({ MCP_TOOL_DENYLIST: 'get_vms,list_jobs' }, true)],
  ['an allowlist', () => envConfig({ MCP_TOOL_ALLOWLIST: 'get_nodes,start_vm,delete_vm' })],
  ['a toolset selection', () => envConfig({ MCP_TOOLSETS: 'vms,jobs' })],
  ['compact mode', () => envConfig({ MCP_TOOL_MODE: 'compact', MCP_TOOLSETS: 'snapshots' })],
] as const) {
  test(`the stdio list from the manifest equals the application's stdio tools/list: ${label}`, async (t) => {
    if (!read.ok) return t.skip('no usable manifest (the test above says why)');
    const live = await withApp(config(), (factory) =>
      factory.handlers({ principal: STDIO_PRINCIPAL }).listTools(),
    );
    const fromManifest = stdioToolsFromManifest(config(), read.manifest);
    assert.deepEqual(fromManifest, live.tools);
    assert.ok(fromManifest.length > 0);
  });
}
