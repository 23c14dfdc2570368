#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `serve` and `demo` run a long-lived HTTP server. V8 sizes its young generation from the machine's memory and
// grows it under load past 100 MB, most of the server's peak RSS (`npm run bench`, docs/benchmarks.md); 16 MB
// semi-spaces cost no measurable throughput. The flag only works when node starts, so the process re-executes
// itself with it (process.execve: same pid, Node 24 on Unix), unless the operator set the flag already.
const SEMI_SPACE_FLAG = '--max-semi-space-size';
const longLived = process.argv[2] === 'serve' || process.argv[2] === 'demo';
if (
  longLived &&
  typeof process.execve === 'function' &&
  !process.execArgv.some((arg) => arg.startsWith(SEMI_SPACE_FLAG)) &&
  !(process.env.NODE_OPTIONS ?? '').includes(SEMI_SPACE_FLAG)
) {
  try {
    process.execve(
      process.execPath,
      [process.execPath, `${SEMI_SPACE_FLAG}=16`, ...process.execArgv, ...process.argv.slice(1)],
      process.env,
    );
  } catch {
    // not replaceable here (a sandbox that forbids exec): run as started
  }
}

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'proxmox-mcp-plus is not built: run `npm run build` (or `npm ci`, which builds) first.\n',
  );
  process.exit(1);
}
await import(entry.href);
