#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test with node:test (Node 20 has no --test globs).
// Extra arguments are substrings that select test files, e.g. `npm run test:only -- simulator`.
// Prints node:test's spec report, keeps a TAP copy in .tmp/, and ends with one plain "N passed, N failed" line.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
walk(root);
const filters = process.argv.slice(2);
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (selected.length === 0) {
  console.error('no test files selected');
  process.exit(1);
}
mkdirSync('.tmp', { recursive: true });
// PostgreSQL suites use PROXMOX_TEST_DATABASE_URL. Only on request (PROXMOX_TEST_START_POSTGRES=1) does this
// start a local PostgreSQL for them, because the script may install Debian's postgresql package.
if (!process.env.PROXMOX_TEST_DATABASE_URL && process.env.PROXMOX_TEST_START_POSTGRES === '1') {
  const pg = spawnSync('bash', ['scripts/start-test-postgres.sh'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const url = /^PROXMOX_TEST_DATABASE_URL=(postgres:\/\/\S+)$/m.exec(pg.stdout ?? '')?.[1];
  if (pg.status !== 0 || !url) {
    console.error('PROXMOX_TEST_START_POSTGRES=1: scripts/start-test-postgres.sh could not start PostgreSQL');
    process.exit(1);
  }
  process.env.PROXMOX_TEST_DATABASE_URL = url;
}
const tapFile = '.tmp/test-results.tap';
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...selected,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
const tap = readFileSync(tapFile, 'utf8');
const count = (label) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
const status = result.status ?? 1;
console.log(
  `tests: ${count('pass')} passed, ${count('fail') + (status !== 0 && count('fail') === 0 ? 1 : 0)} failed`,
);
process.exit(status);
