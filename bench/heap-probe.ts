/**
 * Preloaded into the bench's `serve` child (`node --import <this file>`): on SIGUSR2 it writes what holds the
 * server's memory to PMP_BENCH_HEAP_DIR: heap.json (v8.getHeapStatistics, getHeapSpaceStatistics,
 * process.memoryUsage) and, when PMP_BENCH_HEAP_SNAPSHOT=1, a heap snapshot (server.heapsnapshot). Only node:
 * built-ins, one signal listener: the server it rides in is otherwise untouched. It also samples the V8 heap every
 * 100 ms and keeps the sample taken at the highest RSS (`peak` in heap.json): what the peak was made of.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const dir = process.env.PMP_BENCH_HEAP_DIR;
let peak: { rss: number; heapTotal: number; newSpace: number; oldSpace: number } | undefined;
if (dir) {
  setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (peak && rss <= peak.rss) return;
    const spaces = getHeapSpaceStatistics();
    const size = (name: string) => spaces.find((sp) => sp.space_name === name)?.space_size ?? 0;
    peak = {
      rss,
      heapTotal: process.memoryUsage().heapTotal,
      newSpace: size('new_space'),
      oldSpace: size('old_space'),
    };
  }, 100).unref();
  process.on('SIGUSR2', () => {
    const stats = {
      memory: process.memoryUsage(),
      heap: getHeapStatistics(),
      spaces: getHeapSpaceStatistics(),
      peak,
    };
    let snapshot: string | undefined;
    if (process.env.PMP_BENCH_HEAP_SNAPSHOT === '1') {
      snapshot = join(dir, 'server.heapsnapshot');
      writeHeapSnapshot(snapshot);
    }
    // written last and renamed into place: its presence means everything is on disk
    writeFileSync(join(dir, 'heap.json.tmp'), JSON.stringify({ ...stats, snapshot }));
    renameSync(join(dir, 'heap.json.tmp'), join(dir, 'heap.json'));
  });
}
