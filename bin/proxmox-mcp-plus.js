#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MALLOC_DEFAULTS, NODE_FLAGS, SEMI_SPACE_FLAG } from './memory-settings.js';

// `serve` and `demo` run a long-lived HTTP server: it starts with the node flags and malloc settings that bound its
// memory (bin/memory-settings.js). Node flags only work when node starts, so the process re-executes itself with
// them (process.execve: same pid, Node 24 on Unix), unless the operator set the semi-space flag already.
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
      [process.execPath, ...NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)],
      { ...MALLOC_DEFAULTS, ...process.env },
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
