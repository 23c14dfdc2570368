#!/usr/bin/env node
// Licence check of what ships: every package in the runtime dependency tree (the root package.json's
// dependencies, optionalDependencies and peerDependencies, followed transitively through node_modules the way
// Node resolves them; devDependencies are not followed) must carry a licence we may redistribute.
//
//   node scripts/check-licenses.mjs [--root DIR]     (npm run licenses)
//
// Each package's own node_modules/<name>/package.json `license` field decides (the old `licenses` array is read
// as "any of these"). The policy:
//   - allowed: the permissive licences in PERMISSIVE below;
//   - refused: the GPL family, AGPL and LGPL (LGPL too: shipping it in our image and npm package brings
//     obligations someone has to decide on; accept one deliberately in ACCEPTED below, with the reason);
//   - an SPDX expression "A OR B" passes when one side passes (we may pick the permissive one, e.g.
//     "(MIT OR GPL-3.0)"); "A AND B" needs both; "A WITH exception" is judged by A;
//   - anything else (no licence field, "SEE LICENSE IN …", UNLICENSED, an id not listed) fails and names the
//     package, so a new kind of licence is looked at by a person before it ships.
// A dependency that is neither installed nor optional is a failure too: the tree could not be checked.
// Exit codes: 0 all allowed, 1 a package failed, 2 usage or unreadable root.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const PERMISSIVE = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC0-1.0',
  'CC-BY-3.0',
  'CC-BY-4.0',
  'ISC',
  'MIT',
  'MIT-0',
  'Python-2.0',
  'Unlicense',
  'WTFPL',
  'X11',
  'Zlib',
]);
const COPYLEFT = /^(A?GPL|LGPL)-/;

/** Packages accepted by a person despite the policy: `name: 'why'` (none so far). */
const ACCEPTED = {};

function usage(message) {
  console.error(`check-licenses: ${message}\nusage: node scripts/check-licenses.mjs [--root DIR]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let root = process.cwd();
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--root' && argv[i + 1]) root = resolve(argv[++i]);
  else usage(`unknown argument ${JSON.stringify(argv[i])}`);
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
let rootPkg;
try {
  rootPkg = readJson(join(root, 'package.json'));
} catch (error) {
  usage(`cannot read ${join(root, 'package.json')}: ${error.message}`);
}

/** Node's lookup: <dir>/node_modules/<name>, then the same in each parent directory up to the root. */
function resolvePackage(fromDir, name) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/** The runtime edges of one package.json: name → optional? */
function runtimeDependencies(pkg) {
  const deps = new Map();
  for (const name of Object.keys(pkg.dependencies ?? {})) deps.set(name, false);
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) deps.set(name, true);
  for (const name of Object.keys(pkg.peerDependencies ?? {})) {
    if (!deps.has(name)) deps.set(name, pkg.peerDependenciesMeta?.[name]?.optional === true);
  }
  return deps;
}

const packages = new Map(); // installed directory → { name, version, license }
const problems = [];
const queue = [{ dir: root, pkg: rootPkg, via: `${rootPkg.name ?? '(root)'}@${rootPkg.version ?? '?'}` }];
while (queue.length) {
  const { dir, pkg, via } = queue.shift();
  for (const [name, optional] of runtimeDependencies(pkg)) {
    const found = resolvePackage(dir, name);
    if (!found) {
      // optional dependencies and optional peers may be absent; a peer nobody installed is npm's warning, not ours
      if (!optional && !pkg.peerDependencies?.[name]) {
        problems.push(
          `${name} (required by ${via}): not installed, so its licence cannot be checked (run npm ci)`,
        );
      }
      continue;
    }
    if (packages.has(found)) continue;
    const child = readJson(join(found, 'package.json'));
    packages.set(found, {
      name: child.name ?? name,
      version: child.version ?? '?',
      license: licenseOf(child),
    });
    queue.push({ dir: found, pkg: child, via: `${child.name ?? name}@${child.version ?? '?'}` });
  }
}

/** The SPDX expression of a package.json (string, {type}, or the old licenses array as OR). */
function licenseOf(pkg) {
  const one = (l) => (typeof l === 'string' ? l : typeof l?.type === 'string' ? l.type : undefined);
  if (pkg.license !== undefined) return one(pkg.license);
  if (Array.isArray(pkg.licenses) && pkg.licenses.length) {
    const ids = pkg.licenses.map(one);
    if (!ids.every(Boolean)) return undefined;
    return ids.length === 1 ? ids[0] : ids.map((id) => `(${id})`).join(' OR ');
  }
  return undefined;
}

/** A small SPDX expression parser: OR binds looser than AND; WITH attaches an exception to one id. */
function verdict(expression) {
  const tokens = expression.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const fail = (why) => ({ ok: false, why });
  function primary() {
    const token = tokens[i++];
    if (token === '(') {
      const inner = orExpr();
      if (tokens[i++] !== ')') throw new Error('unbalanced parentheses');
      return inner;
    }
    if (token === undefined || /^(AND|OR|WITH|\))$/i.test(token)) throw new Error('a licence id is missing');
    if (tokens[i]?.toUpperCase() === 'WITH') i += 2; // the exception does not change the verdict
    return judge(token);
  }
  function andExpr() {
    let left = primary();
    while (tokens[i]?.toUpperCase() === 'AND') {
      i++;
      const right = primary();
      left = left.ok ? right : left;
    }
    return left;
  }
  function orExpr() {
    let left = andExpr();
    while (tokens[i]?.toUpperCase() === 'OR') {
      i++;
      const right = andExpr();
      left = left.ok ? left : right.ok ? right : fail(`${left.why}; ${right.why}`);
    }
    return left;
  }
  try {
    const result = orExpr();
    if (i !== tokens.length) throw new Error(`unexpected ${JSON.stringify(tokens[i])}`);
    return result;
  } catch (error) {
    return fail(`"${expression}" is not a licence expression this check understands (${error.message})`);
  }
}

function judge(id) {
  const base = id.replace(/\+$/, '').replace(/-(only|or-later)$/, '');
  if (PERMISSIVE.has(base)) return { ok: true };
  if (COPYLEFT.test(base))
    return { ok: false, why: `${id} is copyleft (GPL/AGPL/LGPL): not allowed in what ships` };
  return { ok: false, why: `${id} is not on the list of permissive licences in scripts/check-licenses.mjs` };
}

const counts = new Map();
for (const [dir, { name, version, license }] of packages) {
  const where = relative(root, dir);
  const key = `${name}@${version}`;
  if (ACCEPTED[name]) {
    counts.set(`accepted: ${license ?? 'none'}`, (counts.get(`accepted: ${license ?? 'none'}`) ?? 0) + 1);
    continue;
  }
  if (!license) {
    problems.push(`${key} (${where}): no licence in its package.json`);
    continue;
  }
  const result = verdict(license);
  if (!result.ok) problems.push(`${key} (${where}): ${result.why}`);
  else counts.set(license, (counts.get(license) ?? 0) + 1);
}

const tally = [...counts].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`);
console.log(`licences: ${packages.size} runtime packages checked (${tally.join(', ') || 'none'})`);
if (problems.length) {
  console.error(`licences: ${problems.length} package(s) not allowed in what ships:`);
  for (const p of problems.sort()) console.error(`  - ${p}`);
  process.exit(1);
}
console.log('licences: OK (no GPL, AGPL, LGPL or unknown licence in the runtime tree)');
