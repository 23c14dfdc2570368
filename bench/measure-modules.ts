import type { BenchContext } from './context.js';
import {
  ALL_DEPENDENCIES,
  AS_SERVE,
  compiled,
  MODULE_GROUPS,
  probe,
  STARTUP_DEPENDENCIES,
  STARTUP_GROUPS,
  type ProbeResult,
} from './probe-client.js';

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
  await measureMarginalShares(ctx);
}

/**
 * Notes: what each group of start-up packages adds to the others, measured as the RSS floor is (the packages
 * `serve` imports at start-up, its node flags, its idle GC), once with every group and once without each: the
 * share a group's removal from start-up could save. The isolated shares above overstate it, because the
 * packages share most of their cost (V8's own heap, Nest, reflect-metadata, node's built-ins).
 */
export async function measureMarginalShares(ctx: BenchContext): Promise<void> {
  const runs = ctx.sizes.modules.runs;
  ctx.progress(
    `notes: each start-up package group's marginal RSS (${STARTUP_GROUPS.length + 1} × ${runs} processes)`,
  );
  const all = await probe(STARTUP_DEPENDENCIES, runs, AS_SERVE);
  const notes = ctx.report.notes;
  notes.push(
    `What each start-up group adds to the rest (fresh node per line, median of ${runs}, the server's node flags and idle GC; ` +
      `every start-up package: ${all.rssMB.toFixed(1)} MB):`,
  );
  const width = Math.max(...STARTUP_GROUPS.map((g) => g.name.length));
  for (const group of STARTUP_GROUPS) {
    const without = STARTUP_DEPENDENCIES.filter((name) => !group.imports.includes(name));
    const line = `  ${group.name.padEnd(width)}`;
    try {
      const r = await probe(without, runs, AS_SERVE);
      notes.push(`${line}  ${(all.rssMB - r.rssMB).toFixed(1).padStart(6)} MB`);
    } catch (error) {
      notes.push(`${line}  failed: ${(error as Error).message.split('\n')[0].slice(0, 160)}`);
    }
  }
}
