import { cpus, loadavg } from 'node:os';
import type { BenchContext } from './context.js';
import { measureInventory, planInventory } from './measure-inventory.js';
import { measureOverhead, planOverhead } from './measure-overhead.js';
import { measurePoller, planPoller } from './measure-poller.js';
import { measureModules } from './measure-modules.js';
import { measureSafety, planSafety } from './measure-safety.js';
import { measureStdio, planStdio } from './measure-stdio.js';
import { measureThroughput, planThroughput } from './measure-throughput.js';
import { MEASUREMENTS, type BenchSizes, type MeasurementId } from './options.js';
import { Report, SECTION_TITLES, format, verdict } from './report.js';

export interface BenchRun {
  sizes: BenchSizes;
  /** Which measurements to run (default: all); the others are reported as "not run". */
  only?: MeasurementId[];
  schemaPath: string | null;
  mode: string;
  progress?: (line: string) => void;
}

export interface BenchResult {
  report: Report;
  /** The printed report: header, one line per figure, closing notes. */
  text: string;
  failures: string[];
}

const SECTIONS_OF: Record<MeasurementId, number[]> = {
  inventory: [1],
  throughput: [2, 6],
  overhead: [3],
  poller: [4],
  stdio: [5],
  safety: [7],
  modules: [],
};

/** Plans every figure, runs the selected measurements (a failing one is reported, not fatal), renders. */
export async function runBench(run: BenchRun): Promise<BenchResult> {
  const report = new Report();
  planInventory(report, run.sizes.inventory);
  planThroughput(report, run.sizes.throughput);
  planOverhead(report, run.sizes.overhead);
  planPoller(report, run.sizes.poller);
  planStdio(report, run.sizes.stdio);
  planSafety(report);
  const ctx: BenchContext = {
    report,
    sizes: run.sizes,
    schemaPath: run.schemaPath,
    progress: run.progress ?? (() => undefined),
    violations: [],
  };
  const measures: Record<MeasurementId, (c: BenchContext) => Promise<void>> = {
    inventory: measureInventory,
    throughput: measureThroughput,
    overhead: measureOverhead,
    poller: measurePoller,
    stdio: measureStdio,
    safety: measureSafety,
    modules: measureModules,
  };
  const selected = run.only ?? MEASUREMENTS;
  const failures: string[] = [];
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  for (const id of MEASUREMENTS) {
    if (!selected.includes(id)) {
      for (const s of SECTIONS_OF[id]) report.fillSection(s, 'not run');
      continue;
    }
    try {
      await measures[id](ctx);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${id}: ${message}`);
      ctx.progress(`  ${id} failed: ${message}`);
    }
    for (const s of SECTIONS_OF[id]) report.fillSection(s, 'failed');
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const header = [
    `proxmox-mcp-plus benchmark (${run.mode}) — ${new Date().toISOString()}`,
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}; ` +
      `1-min load average before the run ${loadAtStart.toFixed(2)} (above ~0.3: other work shared the cores), ` +
      `after it ${loadavg()[0].toFixed(2)}`,
    `simulator: separate process; PVE schema checks ${run.schemaPath ? 'on' : 'OFF (no schema file; set PVE_API_SCHEMA)'}; ` +
      `took ${seconds} s`,
    'All processes (load generator, server, simulator) share these cores: figures are for this machine only.',
  ];
  const closing = ['', 'Closing notes:'];
  const missed = report.missed();
  if (missed.length === 0) closing.push('  every figure with a target meets it.');
  for (const f of missed) {
    const v = verdict(f);
    closing.push(
      v === 'MISSED'
        ? `  MISSED (${f.section}) ${f.label}: ${format(f.median, f.unit)} (p99 ${format(f.p99, f.unit)}), target ${f.target?.text}`
        : `  not measured (${f.section}) ${f.label}: ${f.note ?? ''}`,
    );
    if (v === 'MISSED' && f.why) closing.push(`      why: ${f.why}`);
  }
  closing.push(
    ctx.violations.length
      ? `  requests real PVE would refuse: ${ctx.violations.join(' | ')}`
      : run.schemaPath
        ? '  every upstream request passed the PVE schema check.'
        : '  upstream requests were not schema-checked.',
  );
  for (const f of failures) closing.push(`  measurement failed: ${f}`);
  if (report.notes.length) closing.push('', 'Notes:', ...report.notes.map((n) => `  ${n}`));
  return { report, text: report.render(header) + '\n' + closing.join('\n'), failures };
}

export { SECTION_TITLES };
