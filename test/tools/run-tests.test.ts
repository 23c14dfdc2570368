import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// scripts/run-tests.mjs is what `npm test` and CI run: its last lines and its exit code decide whether a change
// lands. It is run here, unchanged, on tiny projects (dist/test + dist/src, this repository's node_modules for
// c8), to show that a failed test and a coverage shortfall both fail the run, and that the tests line stays last.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUNNER = join(ROOT, 'scripts/run-tests.mjs');

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-runner-'));
  dirs.push(dir);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const covered = `export const double = (x) => x * 2;\n`;
const uncovered = Array.from({ length: 40 }, (_, i) => `export const f${i} = () => ${i};`).join('\n');
const passing = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { double } from '../src/math.js';
test('doubles', () => assert.equal(double(2), 4));
`;
const failing = passing.replace('4));', '5));');

function runner(cwd: string): Promise<{ status: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, lines: out.trimEnd().split('\n') }));
  });
}

describe('scripts/run-tests.mjs: exit code, coverage gate and closing lines', () => {
  test('tests pass and src is covered: exit 0, the coverage line, then the tests line last', async () => {
    const r = await runner(project({ 'dist/src/math.js': covered, 'dist/test/math.test.js': passing }));
    assert.equal(r.status, 0, r.lines.join('\n'));
    assert.deepEqual(r.lines.slice(-2), [
      'coverage: statements 100.0% (gate 85%)',
      'tests: 1 passed, 0 failed',
    ]);
  });

  test('tests pass but a src file no test loads pulls coverage under the gate: exit 1, tests line honest', async () => {
    const r = await runner(
      project({
        'dist/src/math.js': covered,
        'dist/src/unused.js': uncovered,
        'dist/test/math.test.js': passing,
      }),
    );
    assert.notEqual(r.status, 0, r.lines.join('\n'));
    assert.match(r.lines.at(-2)!, /^coverage: statements \d+\.\d% \(gate 85%\) — BELOW THE GATE$/);
    assert.equal(r.lines.at(-1), 'tests: 1 passed, 0 failed');
  });

  test('a failing test fails the run even with full coverage', async () => {
    const r = await runner(project({ 'dist/src/math.js': covered, 'dist/test/math.test.js': failing }));
    assert.notEqual(r.status, 0);
    assert.equal(r.lines.at(-1), 'tests: 0 passed, 1 failed');
  });
});
