// Writes dist/src/mcp/tool-manifest.json: the unfiltered tools/list table of the compiled server, which the stdio
// fast start serves before the application is loaded (src/mcp/tool-manifest.ts). Runs after tsc in
// `npm run build` and `prepare`; test/contract/tool-manifest.contract.test.ts fails when it is stale.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { createApp } from '../dist/src/app.setup.js';
import { placeholderConfig } from '../dist/src/config/placeholder-config.js';
import { ToolRegistry } from '../dist/src/mcp/registry/tool-registry.js';
import { readServerInfo } from '../dist/src/mcp/server-info.js';
import { TOOL_MANIFEST_FILE, TOOL_MANIFEST_FORMAT } from '../dist/src/mcp/tool-manifest.js';
import { McpServerFactory } from '../dist/src/mcp/transport/mcp-server.factory.js';

// the tool table does not depend on any cluster: a placeholder target, never contacted
const { app } = await createApp(placeholderConfig());
const manifest = {
  format: TOOL_MANIFEST_FORMAT,
  version: readServerInfo().version,
  tools: app.get(McpServerFactory).tools(),
  facts: app
    .get(ToolRegistry)
    .all()
    .map((t) => ({
      name: t.name,
      risk: t.options.risk,
      ...(t.options.scope && { scope: t.options.scope }),
      ...(t.toolset && { toolset: t.toolset }),
    })),
};
await app.close();
writeFileSync(TOOL_MANIFEST_FILE, `${JSON.stringify(manifest)}\n`);
console.log(`wrote ${TOOL_MANIFEST_FILE} (${manifest.tools.length} tools)`);
