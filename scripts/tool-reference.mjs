// Writes docs/tools.md from the running tool table (see src/mcp/registry/tool-reference.ts).
// Usage: npm run docs:tools  (builds first). `--check` exits 1 when the committed file is stale.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { createApp } from '../dist/src/app.setup.js';
import { placeholderConfig } from '../dist/src/config/placeholder-config.js';
import { ToolRegistry } from '../dist/src/mcp/registry/tool-registry.js';
import { renderToolReference } from '../dist/src/mcp/registry/tool-reference.js';

// the tool table does not depend on any cluster: a placeholder target, never contacted
const { app } = await createApp(placeholderConfig());
const markdown = renderToolReference(app.get(ToolRegistry).all());
await app.close();
const file = 'docs/tools.md';
if (process.argv.includes('--check')) {
  const current = readFileSync(file, 'utf8');
  if (current !== markdown) {
    console.error(`${file} is stale: run npm run docs:tools`);
    process.exit(1);
  }
  console.log(`${file} is up to date`);
} else {
  writeFileSync(file, markdown);
  console.log(`wrote ${file}`);
}
