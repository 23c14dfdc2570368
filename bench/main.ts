import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { defaultSchemaPath, FULL, MEASUREMENTS, QUICK, type MeasurementId } from './options.js';
import { runBench } from './run-bench.js';

/**
 * `npm run bench [-- --quick] [-- --only inventory,stdio]`: prints every figure next to its target (stdout) and
 * progress (stderr). Exit code 0 when every measurement ran, 1 when one failed (a missed target is not a failure:
 * the report says by how much).
 */
const USAGE = `Usage: npm run bench -- [--quick] [--only ${MEASUREMENTS.join(',')}]
  --quick   every measurement, briefly (about a minute): checks the harness, figures are indicative only
  --only    run only these measurements; the others are listed as "not run"
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim()) as MeasurementId[] | undefined;
  const unknown = only?.filter((m) => !MEASUREMENTS.includes(m)) ?? [];
  if (unknown.length) {
    process.stderr.write(`--only: unknown measurement ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const result = await runBench({
    sizes: values.quick ? QUICK : FULL,
    only,
    schemaPath: defaultSchemaPath(),
    mode: values.quick ? 'quick mode: indicative figures' : 'full',
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${result.text}\n`);
  return result.failures.length ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
});
