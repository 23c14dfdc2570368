// Writes docs/tools.md from the running tool table (see src/mcp/registry/tool-reference.ts).
// Usage: npm run docs:tools  (builds first). `--check` exits 1 when the committed file is stale.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { createApp } from '../dist/src/app.setup.js';
import { loadConfig } from '../dist/src/config/config.loader.js';
import { ToolRegistry } from '../dist/src/mcp/registry/tool-registry.js';
import { renderToolReference } from '../dist/src/mcp/registry/tool-reference.js';

// a placeholder target: the tool table does not depend on any cluster, and nothing is contacted
const config = loadConfig(
  {
    PROXMOX_MCP_CONFIG: '',
    PROXMOX_HOST: 'pve.invalid',
    PROXMOX_USER: 'root@pam',
    PROXMOX_TOKEN_NAME: 'docs',
    PROXMOX_TOKEN_VALUE: '00000000-0000-0000-0000-000000000000',
    PROXMOX_JOBS_SQLITE_PATH: ':memory:',
    LOG_LEVEL: 'ERROR',
  },
  { cwd: process.cwd() },
);
const { app } = await createApp({ ...config, jobs: { ...config.jobs, pollIntervalMs: 0 } });
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
