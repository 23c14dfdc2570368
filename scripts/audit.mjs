#!/usr/bin/env node
// `npm run audit`: known vulnerabilities in what ships (`npm audit --omit=dev`), said plainly either way.
//
//   exit 0  the advisory service answered: nothing high or critical (lower severities are listed)
//   exit 1  the advisory service answered: at least one high or critical advisory
//   exit 3  NOT CHECKED: the advisory service could not be reached or gave no usable answer (offline, a
//           registry mirror without the audit endpoint, a proxy). Never a silent pass: CI or a person decides.
//
// Not part of `npm test`: the answer depends on a service outside this repository and changes every day.
// The registry is npm's own setting (npm_config_registry / .npmrc), so a mirror is audited where it is used.
import { spawnSync } from 'node:child_process';

const NOT_CHECKED = 3;
const FAILING = ['critical', 'high'];
const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'];

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = spawnSync(npm, ['audit', '--omit=dev', '--json'], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
});

function notChecked(reason) {
  console.log(`npm audit: NOT CHECKED — the advisory service could not be reached (${reason})`);
  process.exit(NOT_CHECKED);
}

if (run.error) notChecked(`npm could not be run: ${run.error.message}`);
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  const lastError = run.stderr
    .split('\n')
    .filter((line) => /^npm (error|ERR!)/.test(line) && !/complete log/.test(line))
    .pop();
  notChecked(lastError?.replace(/^npm (error|ERR!)\s*/, '') || `npm exited ${run.status} without a report`);
}

const counts = report?.metadata?.vulnerabilities;
if (!counts || typeof counts !== 'object') {
  // npm's JSON when the request failed: { message, statusCode?, error: { code?, summary } }
  const reason =
    report?.message ||
    report?.error?.summary ||
    report?.error?.code ||
    `npm exited ${run.status} with no vulnerability counts`;
  notChecked(String(reason).split('\n')[0]);
}

const packages = Object.values(report.vulnerabilities ?? {});
const summary = SEVERITIES.map((s) => `${counts[s] ?? 0} ${s}`).join(', ');
console.log(
  `npm audit: ${report.metadata.dependencies?.prod ?? '?'} runtime dependencies checked; ${summary}`,
);
for (const severity of SEVERITIES) {
  for (const v of packages.filter((p) => p.severity === severity)) {
    const titles = (v.via ?? [])
      .filter((via) => typeof via === 'object' && via.title)
      .map((via) => `${via.title}${via.url ? ` (${via.url})` : ''}`);
    const through = (v.via ?? []).filter((via) => typeof via === 'string');
    const what = titles.length ? titles.join('; ') : `through ${through.join(', ')}`;
    const fix = v.fixAvailable === false ? 'no fix available' : v.fixAvailable ? 'fix available' : '';
    console.log(
      `  - ${severity}: ${v.name}${v.range ? ` ${v.range}` : ''}: ${what}${fix ? ` [${fix}]` : ''}`,
    );
  }
}
const failing = FAILING.reduce((n, s) => n + (counts[s] ?? 0), 0);
if (failing > 0) {
  console.log(`npm audit: FAILED — ${failing} high or critical advisories in what ships`);
  process.exit(1);
}
console.log('npm audit: OK — no high or critical advisories in what ships');
