import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pctExecLine, shellQuote } from '../../src/proxmox/ssh/shell-quote.js';
import { INJECTION_PAYLOADS, parseCommandLine } from '../helpers/ssh-server.js';

/** Random printable strings (and the odd control character), reproducible. */
function randomStrings(count: number, seed = 42): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '\n\t\r';
  return Array.from({ length: count }, () =>
    Array.from(
      { length: 1 + Math.floor(next() * 24) },
      () => alphabet[Math.floor(next() * alphabet.length)],
    ).join(''),
  );
}

/**
 * Runs `printf '%s\0' <quoted args>` in a real shell and returns what arrived as arguments. The shell gets an empty
 * PATH: if quoting were ever broken, an injected command could not be found (printf is a builtin).
 */
function throughShell(shell: string, args: string[]): string[] {
  const emptyDir = mkdtempSync(join(tmpdir(), 'no-path-'));
  try {
    const script = `printf '%s\\0' ${args.map(shellQuote).join(' ')}`;
    const run = spawnSync(shell, ['-c', script], { env: { PATH: emptyDir }, encoding: 'buffer' });
    assert.equal(run.status, 0, `${shell} failed: ${run.stderr.toString()}`);
    const parts = run.stdout.toString('utf8').split('\0');
    parts.pop(); // the text after the last NUL
    return parts;
  } finally {
    rmSync(emptyDir, { recursive: true, force: true });
  }
}

describe('POSIX quoting of pct exec arguments', () => {
  for (const shell of ['/bin/sh', '/usr/bin/dash', '/usr/bin/bash']) {
    test(`${shell}: hostile and random arguments arrive byte for byte`, { skip: !existsSync(shell) }, () => {
      const args = [...INJECTION_PAYLOADS, ...randomStrings(300)];
      assert.deepEqual(throughShell(shell, args), args);
    });
  }

  test('NUL cannot be quoted: refused', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL byte/);
    assert.throws(
      () => pctExecLine({ vmid: 101, command: { argv: ['echo', 'x\0'] }, useSudo: false, timeoutSeconds: 5 }),
      /NUL/,
    );
  });

  test('the exact pct exec line: timeout outside sudo, --, every argument single-quoted', () => {
    assert.equal(
      pctExecLine({
        vmid: 101,
        command: { argv: ['echo', '; rm -rf /'] },
        useSudo: false,
        timeoutSeconds: 30,
      }),
      "timeout --kill-after=5s 30s /usr/sbin/pct exec 101 -- 'echo' '; rm -rf /'",
    );
    assert.equal(
      pctExecLine({
        vmid: 101,
        command: { argv: ['--help', '-rf'] },
        useSudo: true,
        timeoutSeconds: 7,
        killAfterSeconds: 2,
      }),
      "timeout --kill-after=2s 7s sudo -n /usr/sbin/pct exec 101 -- '--help' '-rf'",
    );
    assert.equal(
      pctExecLine({
        vmid: 205,
        command: { script: "echo it's | wc -c" },
        useSudo: false,
        timeoutSeconds: 30,
      }),
      "timeout --kill-after=5s 30s /usr/sbin/pct exec 205 -- /bin/sh -c 'echo it'\\''s | wc -c'",
    );
  });

  test('only an integer vmid in range is accepted (it is the one unquoted word)', () => {
    for (const vmid of [99, 1e9, 101.5, NaN]) {
      assert.throws(
        () => pctExecLine({ vmid, command: { argv: ['id'] }, useSudo: false, timeoutSeconds: 5 }),
        /vmid/,
      );
    }
    assert.throws(
      () => pctExecLine({ vmid: 101, command: { argv: [] }, useSudo: false, timeoutSeconds: 5 }),
      /empty/,
    );
    assert.throws(
      () => pctExecLine({ vmid: 101, command: { argv: ['id'] }, useSudo: false, timeoutSeconds: 0 }),
      /timeout/,
    );
  });

  test("the test node's parser splits our lines as a shell does, and flags an unquoted metacharacter", () => {
    const argv = [...INJECTION_PAYLOADS];
    const line = pctExecLine({ vmid: 101, command: { argv }, useSudo: true, timeoutSeconds: 9 });
    assert.deepEqual(parseCommandLine(line), { timeoutSeconds: 9, sudo: true, vmid: 101, argv });
    assert.match(
      String(parseCommandLine('timeout --kill-after=5s 9s /usr/sbin/pct exec 101 -- echo; id').injection),
      /unquoted ';'/,
    );
    assert.match(
      String(parseCommandLine('timeout --kill-after=5s 9s /usr/sbin/pct exec 101 -- echo $(id)').injection),
      /unquoted '\$'/,
    );
  });
});
