#!/usr/bin/env node
// `npm run test:live [-- <story>…]`: the scenario suite (test/scenarios) against a real Proxmox VE cluster.
//
// The target comes from PROXMOX_MCP_E2E_CONFIG or proxmox-config/config.live.json (never the server's
// config.json); PROXMOX_MCP_E2E_TARGET picks one of several targets. Refused before any request, exit 2, when the
// file is missing or invalid, the target does not say "allow_e2e": true, is read-only, or still has an example's
// host or token. Otherwise the same stories as `npm run test:scenarios` run one file at a time (they share the
// cluster), creating and deleting guests, backups and ISO files marked mcp-e2e. Arguments select stories by
// file name, e.g. `npm run test:live -- inspect`.
// What the API token needs and what the stories create: docs/testing.md.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let liveTarget;
try {
  liveTarget = await import(new URL('../dist/test/scenarios/live-target.js', import.meta.url).href);
} catch (error) {
  console.error(`test:live: the compiled suite is missing (${error.message}); run npm run build first`);
  process.exit(2);
}

let resolved;
try {
  resolved = liveTarget.resolveLiveTarget(process.env);
} catch (error) {
  if (!(error instanceof liveTarget.E2eRefusal)) throw error;
  console.error(`test:live: REFUSED — ${error.message}`);
  process.exit(2);
}
const { target, configPath } = resolved;
console.log(
  `test:live: target '${target.name}' (https://${target.host}:${target.port}) from ${configPath}; ` +
    `the stories create, change and delete guests, backups and ISO files marked mcp-e2e there`,
);

const stories = process.argv.slice(2);
const selection = stories.length ? stories.map((s) => `dist/test/scenarios/${s}`) : ['dist/test/scenarios/'];
const run = spawnSync(process.execPath, [`${root}scripts/run-tests.mjs`, ...selection], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PROXMOX_MCP_E2E_LIVE: '1',
    PROXMOX_MCP_E2E_CONFIG: configPath,
    PROXMOX_MCP_E2E_TARGET: target.name,
    // one story at a time: they share the cluster (next free VM ID, node capacity)
    PROXMOX_TEST_CONCURRENCY: '1',
  },
});
process.exit(run.status ?? 1);
