import type { BenchSizes } from './options.js';
import type { Report } from './report.js';
import type { SimHandle } from './sim-handle.js';

/** What every measurement gets: where to put figures, how big to make things, and where to say what it does. */
export interface BenchContext {
  report: Report;
  sizes: BenchSizes;
  /** PVE schema for the simulator, or null (unchecked). */
  schemaPath: string | null;
  /** Progress lines (stderr), not part of the report. */
  progress(line: string): void;
  /** Requests real PVE would have refused, collected from every simulator before it stops. */
  violations: string[];
}

/** Stops a simulator after recording its schema violations in the context. */
export async function stopSim(ctx: BenchContext, sim: SimHandle): Promise<void> {
  try {
    const v = await sim.violations();
    if (v.count > 0)
      ctx.violations.push(`${v.count} on ${sim.size.nodes}/${sim.size.guests}: ${v.first.join('; ')}`);
  } finally {
    await sim.stop();
  }
}
