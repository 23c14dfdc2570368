#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test with node:test (node --test globs differ between Node versions; this lists the files itself).
// Extra arguments are substrings that select test files, e.g. `npm run test:only -- simulator`.
// Prints node:test's spec report, keeps a TAP copy in .tmp/, and ends with one plain "N passed, N failed" line.
//
// The whole suite (no selection, as `npm test` runs it) also measures statement coverage of src/** with c8:
// NODE_V8_COVERAGE is inherited by every test file's process and by the servers and CLIs they spawn (helpers
// that build a child's environment pass it on), and dist/ is mapped back to the TypeScript through the source
// maps. The table goes to .tmp/coverage/summary.txt; one `coverage:` line is printed before the tests line, and the run
// fails below COVERAGE_GATE. `--coverage` measures a selection too (printed, not gated: a part of the suite
// cannot be held to the whole suite's figure); PROXMOX_TEST_CONCURRENCY sets how many files run at once.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
const args = process.argv.slice(2);
const filters = args.filter((a) => a !== '--coverage');
const coverage = filters.length === 0 || args.includes('--coverage');
const COVERAGE_GATE = 85;
const COVERAGE_DIR = '.tmp/coverage';
// per run: someone else's run in the same checkout must not mix its processes into this figure
const COVERAGE_RAW = `.tmp/coverage-raw-${process.pid}`;
const concurrency = process.env.PROXMOX_TEST_CONCURRENCY ?? '2';
if (!/^[1-9]\d*$/.test(concurrency)) {
  console.error(`PROXMOX_TEST_CONCURRENCY must be a positive integer; got ${JSON.stringify(concurrency)}`);
  process.exit(1);
}
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
if (coverage) {
  mkdirSync(COVERAGE_RAW, { recursive: true });
}
// Written under a name of this run's own and copied to .tmp/test-results.tap at the end, so runs side by side
// (other files, a run started from inside a test) never count each other's results. PROXMOX_TEST_TAP_FILE
// names the copy instead.
const tapCopy = process.env.PROXMOX_TEST_TAP_FILE ?? '.tmp/test-results.tap';
const tapFile = `.tmp/test-results-${process.pid}.tap`;
const result = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    // A test that hangs fails after 10 minutes instead of holding the run (and CI) until its own limit.
    // (--test-force-exit is not used: on some Node versions it exits before the TAP file reporter has flushed.)
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...selected,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      ...(coverage ? { NODE_V8_COVERAGE: resolve(COVERAGE_RAW) } : {}),
    },
  },
);
const tap = readFileSync(tapFile, 'utf8');
writeFileSync(tapCopy, tap);
rmSync(tapFile, { force: true });
const count = (label) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
// the tests line counts tests only; a coverage shortfall fails the run through the exit code and its own line
const testStatus = result.status ?? 1;
let status = testStatus;
if (coverage) {
  const statements = coverageReport();
  const gated = filters.length === 0;
  if (statements === undefined) {
    console.log('coverage: NOT MEASURED — c8 could not produce a report (see above)');
    if (gated) status ||= 1;
  } else {
    const below = gated && statements < COVERAGE_GATE;
    const note = gated ? `(gate ${COVERAGE_GATE}%)` : '(selected files only: not gated)';
    console.log(`coverage: statements ${statements.toFixed(1)}% ${note}${below ? ' — BELOW THE GATE' : ''}`);
    if (below) status ||= 1;
  }
}
console.log(
  `tests: ${count('pass')} passed, ${count('fail') + (testStatus !== 0 && count('fail') === 0 ? 1 : 0)} failed`,
);
process.exit(status);

/**
 * The compiled files of `dir` that hold no code: TypeScript modules of types only (interfaces, type aliases)
 * compile to `export {};`. With `--all`, c8 would count their source lines as statements never run, so moving a
 * type into a file of its own would lower the figure without any code losing a test.
 */
function typeOnlyModules(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...typeOnlyModules(path));
    else if (name.endsWith('.js')) {
      const code = readFileSync(path, 'utf8')
        .replace(/\/\/# sourceMappingURL=.*$/m, '')
        .trim();
      if (code === 'export {};') found.push(path);
    }
  }
  return found;
}

/**
 * Turns the raw V8 coverage of every process into .tmp/coverage/summary.txt (per file, src/** only, unloaded
 * files counted as 0 %) and coverage-summary.json; returns the statement percentage, undefined if c8 failed.
 */
function coverageReport() {
  mkdirSync(COVERAGE_DIR, { recursive: true });
  rmSync(join(COVERAGE_DIR, 'coverage-summary.json'), { force: true }); // never report an older run's figure
  const c8 = spawnSync(
    process.execPath,
    [
      'node_modules/c8/bin/c8.js',
      'report',
      `--temp-directory=${COVERAGE_RAW}`,
      `--reports-dir=${COVERAGE_DIR}`,
      '--reporter=text',
      '--reporter=json-summary',
      // every compiled file of src/, also those no test loaded (0 %), reported under its TypeScript path
      '--all',
      '--src=dist/src',
      '--include=dist/src/**',
      '--exclude=dist/test/**',
      ...typeOnlyModules('dist/src').map((file) => `--exclude=${file}`),
      '--merge-async',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  rmSync(COVERAGE_RAW, { recursive: true, force: true });
  if (c8.status !== 0) {
    console.error(`c8 report failed (exit ${c8.status}): ${c8.stderr || c8.error?.message || ''}`);
    return undefined;
  }
  writeFileSync(join(COVERAGE_DIR, 'summary.txt'), c8.stdout);
  try {
    const summary = JSON.parse(readFileSync(join(COVERAGE_DIR, 'coverage-summary.json'), 'utf8'));
    return summary.total.statements.pct;
  } catch (error) {
    console.error(`c8 wrote no readable coverage-summary.json: ${error.message}`);
    return undefined;
  }
}
