import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../src/app.setup.js';
import { COMPACT_TOOLS, TOOLSET_NAMES } from '../../src/common/tools/toolsets.js';
import { ToolRegistry } from '../../src/mcp/registry/tool-registry.js';
import { testConfig } from '../helpers/test-app.js';

test('every tool belongs to a toolset (@McpToolset on its controller or method)', async () => {
  const { app } = await createApp(testConfig([], { jobs: { sqlitePath: ':memory:', pollIntervalMs: 0 } }));
  try {
    const tools = app.get(ToolRegistry).all();
    const without = tools.filter((t) => !t.toolset).map((t) => t.name);
    assert.deepEqual(
      without,
      [],
      `tools without a toolset: ${without.join(', ')}. Put @McpToolset('<set>') (src/common/tools/toolsets.ts) on ` +
        `their controller class, or on the method when a controller mixes sets; the sets are: ${TOOLSET_NAMES.join(', ')}`,
    );
    const catalog = tools.filter((t) => t.toolset === 'catalog').map((t) => t.name);
    assert.deepEqual(
      catalog.sort(),
      [...COMPACT_TOOLS].sort(),
      'the catalog toolset is the compact mode tools',
    );
    for (const set of TOOLSET_NAMES)
      assert.ok(
        tools.some((t) => t.toolset === set),
        `toolset ${set} has tools`,
      );
  } finally {
    await app.close();
  }
});
