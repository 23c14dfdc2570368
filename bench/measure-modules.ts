import type { BenchContext } from './context.js';
import { ALL_DEPENDENCIES, compiled, MODULE_GROUPS, probe, type ProbeResult } from './probe-client.js';

/**
 * Notes: each module's share of RSS and start-up time. Every group is imported in a fresh `node` process
 * (bench/import-probe.ts), `runs` times (medians); its share is the difference from a bare node process. Shares
 * overlap (typeorm is also inside @nestjs/typeorm), so they do not add up to the server's RSS; the last lines are
 * every dependency together and the server's compiled application module (what `serve` loads before listening).
 */
export async function measureModules(ctx: BenchContext): Promise<void> {
  const runs = ctx.sizes.modules.runs;
  ctx.progress(
    `notes: each module's share of RSS and start-up time (${MODULE_GROUPS.length + 3} × ${runs} processes)`,
  );
  const bare = await probe([], runs);
  const rows: Array<{ name: string; r: ProbeResult | Error }> = [];
  const attempt = async (name: string, imports: string[]) => {
    rows.push({
      name,
      r: await probe(imports, runs).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    });
  };
  for (const group of MODULE_GROUPS) await attempt(group.name, group.imports);
  const rss = (r: ProbeResult | Error) => (r instanceof Error ? -1 : r.rssMB);
  rows.sort((a, b) => rss(b.r) - rss(a.r));
  await attempt('every dependency package above (not the simulator)', ALL_DEPENDENCIES);
  await attempt('the server: dist/src/app.module.js (reflect-metadata first)', [
    'reflect-metadata',
    compiled('src/app.module.js'),
  ]);
  const n = (v: number, digits = 1) => v.toFixed(digits).padStart(7);
  const width = Math.max(...rows.map((row) => row.name.length));
  const notes = ctx.report.notes;
  notes.push(
    `Each module's share (fresh node per line, median of ${runs}; + = over a bare node: ` +
      `${bare.rssMB.toFixed(1)} MB RSS, ${bare.startMs.toFixed(0)} ms spawn → exit of the probe):`,
    `  ${'module'.padEnd(width)}  ${'+RSS MB'.padStart(7)}  ${'import ms'.padStart(9)}  ${'+start ms'.padStart(9)}`,
  );
  for (const { name, r } of rows) {
    if (r instanceof Error) {
      notes.push(`  ${name.padEnd(width)}  failed: ${r.message.split('\n')[0].slice(0, 160)}`);
      continue;
    }
    notes.push(
      `  ${name.padEnd(width)}  ${n(r.rssMB - bare.rssMB)}  ${n(r.importMs, 0).padStart(9)}  ${n(r.startMs - bare.startMs, 0).padStart(9)}`,
    );
  }
}
