/**
 * A fresh `node` process that imports the modules named on its command line, in order, then idles briefly and
 * prints one JSON line: how long the imports took and its RSS afterwards. With no arguments it is the floor of
 * every RSS figure: a bare node process. Keep this file free of imports beyond node: built-ins.
 *
 *   node dist/bench/import-probe.js [module ...]   →   {"importMs": 12.3, "rssMB": 45.6}
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const started = performance.now();
for (const specifier of process.argv.slice(2)) await import(specifier);
const importMs = performance.now() - started;
await sleep(Number(process.env.PMP_BENCH_PROBE_IDLE_MS ?? 300));
process.stdout.write(`${JSON.stringify({ importMs, rssMB: process.memoryUsage.rss() / 1e6 })}\n`);
