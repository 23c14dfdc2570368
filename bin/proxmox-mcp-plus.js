#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'proxmox-mcp-plus is not built: run `npm run build` (or `npm ci`, which builds) first.\n',
  );
  process.exit(1);
}
await import(entry.href);
