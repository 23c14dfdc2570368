import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The script at the repository root (this file runs from dist/test/tools/), run as `npm run licenses` runs it.
const SCRIPT = fileURLToPath(new URL('../../../scripts/check-licenses.mjs', import.meta.url));

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Pkg = { name: string; version?: string; [key: string]: unknown };

/** A project directory: package.json from `root`, and node_modules/<path>/package.json for each entry. */
function tree(root: Omit<Pkg, 'name'>, installed: Record<string, Pkg>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-licenses-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', ...root }));
  for (const [path, pkg] of Object.entries(installed)) {
    const pkgDir = join(dir, path);
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ version: '1.0.0', ...pkg }));
  }
  return dir;
}

function check(root: string) {
  const { NODE_V8_COVERAGE: _notOurCode, ...env } = process.env;
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8', env });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('scripts/check-licenses.mjs on package trees it is given', () => {
  test('a GPL package in the runtime tree fails and is named with its licence', () => {
    const dir = tree(
      { dependencies: { x: '1' } },
      { 'node_modules/x': { name: 'x', version: '2.1.0', license: 'GPL-3.0-only' } },
    );
    const r = check(dir);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /x@2\.1\.0 \(node_modules\/x\): GPL-3\.0-only is copyleft/);
  });

  test('copyleft deep in the tree is found: AGPL under a permissive package, LGPL in a nested node_modules', () => {
    const dir = tree(
      { dependencies: { web: '1', db: '1' } },
      {
        'node_modules/web': { name: 'web', license: 'MIT', dependencies: { engine: '1' } },
        'node_modules/engine': { name: 'engine', license: 'AGPL-3.0-or-later' },
        'node_modules/db': { name: 'db', license: 'ISC', dependencies: { codec: '2' } },
        // db's own copy (another version than the hoisted one) is the one Node loads for db
        'node_modules/db/node_modules/codec': { name: 'codec', version: '2.0.0', license: 'LGPL-2.1-only' },
        'node_modules/codec': { name: 'codec', version: '1.0.0', license: 'MIT' },
      },
    );
    const r = check(dir);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /engine@1\.0\.0 \(node_modules\/engine\): AGPL-3\.0-or-later is copyleft/);
    assert.match(
      r.out,
      /codec@2\.0\.0 \(node_modules\/db\/node_modules\/codec\): LGPL-2\.1-only is copyleft/,
    );
    assert.doesNotMatch(r.out, /codec@1\.0\.0/, 'the hoisted copy nobody loads is not part of the tree');
  });

  test('a missing or unknown licence fails and names the package', () => {
    const dir = tree(
      { dependencies: { a: '1', b: '1', c: '1' } },
      {
        'node_modules/a': { name: 'a' },
        'node_modules/b': { name: 'b', license: 'SEE LICENSE IN LICENSE.txt' },
        'node_modules/c': { name: 'c', license: 'UNLICENSED' },
      },
    );
    const r = check(dir);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /a@1\.0\.0 \(node_modules\/a\): no licence in its package\.json/);
    assert.match(r.out, /b@1\.0\.0 .*not a licence expression this check understands/);
    assert.match(r.out, /c@1\.0\.0 .*UNLICENSED is not on the list of permissive licences/);
  });

  test('a dependency that is not installed fails: the tree could not be checked', () => {
    const dir = tree({ dependencies: { ghost: '1' } }, {});
    const r = check(dir);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /ghost \(required by app@1\.0\.0\): not installed/);
  });

  test('OR with a permissive side passes, AND needs both; dev dependencies and absent optionals are not shipped', () => {
    const ok = tree(
      {
        dependencies: { dual: '1', both: '1', old: '1' },
        optionalDependencies: { native: '1' },
        devDependencies: { tool: '1' },
      },
      {
        'node_modules/dual': { name: 'dual', license: '(MIT OR GPL-3.0)' },
        'node_modules/both': { name: 'both', license: 'Apache-2.0 AND BSD-3-Clause' },
        'node_modules/old': { name: 'old', licenses: [{ type: 'MIT', url: 'https://example.invalid' }] },
        'node_modules/tool': { name: 'tool', license: 'GPL-2.0-only' },
      },
    );
    const r = check(ok);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /3 runtime packages checked/);

    const mixed = tree(
      { dependencies: { both: '1' } },
      { 'node_modules/both': { name: 'both', license: '(MIT AND GPL-2.0-or-later)' } },
    );
    const refused = check(mixed);
    assert.equal(refused.status, 1, refused.out);
    assert.match(refused.out, /both@1\.0\.0 .*GPL-2\.0-or-later is copyleft/);
  });

  test("this repository's runtime tree passes (what .ci/run checks after npm ci)", () => {
    const r = check(process.cwd());
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /licences: OK/);
  });
});
