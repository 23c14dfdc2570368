#!/usr/bin/env node
// Verifies an audit log export (GET /audit/export.ndjson, or export_audit_log pages joined) without any
// dependency but Node: every line's hash must match its fields, its seq must follow the previous line's, and its
// prev_hash must be the previous line's hash. The algorithm is the one in docs/security.md ("Tamper-evident audit
// log"): hash = lower-case hex SHA-256 of the UTF-8 bytes of
//   JSON.stringify(["pmp-audit-v1", seq, at, actor, action, target, outcome, reason, args_digest, details_json, prev_hash])
//
// Usage: node scripts/verify-audit-export.mjs FILE [--prev HASH] [--head HASH]
//   --prev HASH  the first line must link to HASH (the last hash of your previous export, or the checkpoint)
//   --head HASH  the last line must be HASH (a head you recorded elsewhere: detects a truncated tail)
// Prints "ok: …" and exits 0, or "broken at line N (row id X): KIND — …" and exits 1 (2 on usage errors).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const expectPrev = option('--prev');
const expectHead = option('--head');
if (args.length !== 1 || args[0].startsWith('--')) {
  process.stderr.write('usage: node scripts/verify-audit-export.mjs FILE [--prev HASH] [--head HASH]\n');
  process.exit(2);
}

const hashOf = (r) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        'pmp-audit-v1',
        r.seq,
        r.at,
        r.actor,
        r.action,
        r.target,
        r.outcome,
        r.reason,
        r.args_digest,
        r.details_json,
        r.prev_hash,
      ]),
      'utf8',
    )
    .digest('hex');

function broken(line, row, kind, detail) {
  process.stdout.write(`broken at line ${line} (row id ${row?.id ?? '?'}): ${kind} — ${detail}\n`);
  process.exit(1);
}

let text;
try {
  text = readFileSync(args[0], 'utf8');
} catch (error) {
  process.stderr.write(`cannot read ${args[0]}: ${error.message}\n`);
  process.exit(2);
}
const lines = text.split('\n');
if (lines.at(-1) === '') lines.pop();

let prev;
let first;
for (let i = 0; i < lines.length; i++) {
  const n = i + 1;
  let row;
  try {
    row = JSON.parse(lines[i]);
  } catch {
    broken(n, undefined, 'unreadable', 'not a JSON object');
  }
  if (typeof row?.hash !== 'string' || typeof row.prev_hash !== 'string' || !Number.isSafeInteger(row.seq))
    broken(n, row, 'inserted', 'a row without seq, prev_hash and hash (written outside the chain)');
  const recomputed = hashOf(row);
  if (recomputed !== row.hash)
    broken(n, row, 'edited', `fields do not match the hash: expected ${recomputed}, found ${row.hash}`);
  if (prev === undefined) {
    first = row;
    if (expectPrev !== undefined && row.prev_hash !== expectPrev)
      broken(n, row, 'edited', `first row links to ${row.prev_hash}, expected ${expectPrev}`);
  } else {
    if (row.seq !== prev.seq + 1) {
      // the missing position elsewhere in the file: moved, not deleted
      const elsewhere = lines.some((l) => l.includes(`"seq":${prev.seq + 1},`));
      const kind = row.seq > prev.seq + 1 && !elsewhere ? 'deleted' : 'reordered';
      broken(n, row, kind, `seq ${row.seq} follows seq ${prev.seq} (expected ${prev.seq + 1})`);
    }
    if (row.prev_hash !== prev.hash)
      broken(n - 1, prev, 'edited', `re-hashed: the next row links to ${row.prev_hash}, found ${prev.hash}`);
  }
  prev = row;
}
if (expectHead !== undefined && prev?.hash !== expectHead) {
  const found = prev ? `seq ${prev.seq} hash ${prev.hash}` : 'no rows';
  broken(lines.length, prev, 'truncated', `the last row is ${found}, expected hash ${expectHead}`);
}
process.stdout.write(
  prev
    ? `ok: ${lines.length} row(s), seq ${first.seq}–${prev.seq}, prev ${first.prev_hash}, last hash ${prev.hash}\n`
    : 'ok: 0 rows\n',
);
