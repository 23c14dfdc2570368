import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createApp } from '../../src/app.setup.js';
import { ToolRegistry } from '../../src/mcp/registry/tool-registry.js';
import { renderToolReference } from '../../src/mcp/registry/tool-reference.js';
import { testConfig } from '../helpers/test-app.js';

test('docs/tools.md is the reference of exactly the tools the server serves (npm run docs:tools)', async () => {
  const { app } = await createApp(testConfig([], { jobs: { sqlitePath: ':memory:', pollIntervalMs: 0 } }));
  try {
    const tools = app.get(ToolRegistry).all();
    const expected = renderToolReference(tools);
    const committed = readFileSync('docs/tools.md', 'utf8');
    assert.ok(
      committed === expected,
      'docs/tools.md is stale: run `npm run docs:tools` and commit the result',
    );
    for (const tool of tools)
      assert.ok(committed.includes(`## ${tool.name}\n`), `${tool.name} is documented`);
  } finally {
    await app.close();
  }
});
