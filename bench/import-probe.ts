/**
 * A fresh `node` process that imports the modules named on its command line, in order, then idles briefly and
 * prints one JSON line: how long the imports took and its RSS afterwards. With no arguments it is the floor of
 * every RSS figure: a bare node process. With PMP_BENCH_PROBE_TRIM=1 it runs the server's idle memory-reducing
 * collection before reading RSS. Keep this file free of imports beyond node: built-ins.
 *
 *   node dist/bench/import-probe.js [module ...]   →   {"importMs": 12.3, "rssMB": 45.6}
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';

const started = performance.now();
for (const specifier of process.argv.slice(2)) await import(specifier);
const importMs = performance.now() - started;
await sleep(Number(process.env.PMP_BENCH_PROBE_IDLE_MS ?? 300));
if (process.env.PMP_BENCH_PROBE_TRIM === '1') {
  // the collection src/metrics/idle-memory-trim.ts runs once the server is idle, reached the same way
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (options: object) => void;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  await sleep(Number(process.env.PMP_BENCH_PROBE_IDLE_MS ?? 300));
}
process.stdout.write(`${JSON.stringify({ importMs, rssMB: process.memoryUsage.rss() / 1e6 })}\n`);
