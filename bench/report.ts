/**
 * Figures and their targets. Every figure the bench can produce is declared up front (planFigures), so the
 * report always has the same lines: a measurement that did not run says so instead of disappearing.
 */
export interface Target {
  /** As printed, e.g. "p50 ≤ 100 ms". */
  text: string;
  /** Whether the measured figure meets it. */
  met(figure: Figure): boolean;
}

export interface Figure {
  /** The measurement number, 1-6. */
  section: number;
  /** Unique within the report, e.g. "get_vms 32 nodes/5,000 guests: server latency, uncached". */
  label: string;
  unit: string;
  /** Median (or the single value); p99 when the figure is a distribution. */
  median?: number;
  p99?: number;
  /** Printed instead of numbers (e.g. "n/a (tool not available)", "not run"). */
  note?: string;
  /** Extra facts printed after the verdict (sample counts, ranges). */
  detail?: string;
  /**
   * The floor this figure is judged against, as printed beside it (e.g. "REST 1,494 calls/s"): measured in the
   * same run, so a loaded machine moves both.
   */
  floor?: string;
  /**
   * For a target that can be missed: the measured reason, from this run, and what would move it. Printed under the
   * figure's MISSED line in the closing notes.
   */
  why?: string;
  target?: Target;
}

export const SECTION_TITLES: Record<number, string> = {
  1: 'Inventory tools: upstream requests per call and server-side latency',
  2: 'tools/call throughput and latency over Streamable HTTP, and REST',
  3: 'MCP overhead: server latency minus the upstream call',
  4: 'Job poller cost',
  5: 'stdio cold start to the first tools/list answer',
  6: 'Resident memory (RSS) of the server process',
  7: 'Per-call cost of the safety features, server-side',
};

export const atMost = (limit: number, text: string, of: 'median' | 'p99' = 'median'): Target => ({
  text,
  met: (f) => (f[of] ?? NaN) <= limit,
});
export const atLeast = (limit: number, text: string): Target => ({
  text,
  met: (f) => (f.median ?? NaN) >= limit,
});

/** The figures of one run, in report order; measurements fill them in by label. */
export class Report {
  private readonly figures = new Map<string, Figure>();
  /** Free-form lines printed after the closing notes (module shares, what holds memory). */
  readonly notes: string[] = [];

  /** Declares a figure (its line is printed even if it is never measured). */
  plan(figure: Omit<Figure, 'median' | 'p99' | 'note' | 'detail' | 'floor' | 'why'>): void {
    if (this.figures.has(figure.label)) throw new Error(`figure declared twice: ${figure.label}`);
    this.figures.set(figure.label, { ...figure });
  }

  set(label: string, values: Pick<Figure, 'median' | 'p99' | 'note' | 'detail' | 'floor' | 'why'>): void {
    const figure = this.figures.get(label);
    if (!figure) throw new Error(`figure not declared: ${label}`);
    Object.assign(figure, values);
  }

  /** Marks every still-empty figure of a section (the measurement failed or was skipped). */
  fillSection(section: number, note: string): void {
    for (const f of this.figures.values()) {
      if (f.section === section && f.median === undefined && f.note === undefined) f.note = note;
    }
  }

  /** In section order (1-6), then in the order they were planned. */
  all(): Figure[] {
    return [...this.figures.values()].sort((a, b) => a.section - b.section);
  }

  /** The measured median of a figure (NaN when it was not measured): what ratios are computed from. */
  value(label: string): number {
    return this.figures.get(label)?.median ?? NaN;
  }

  /** Figures whose target is missed (or could not be measured). */
  missed(): Figure[] {
    return this.all().filter((f) => f.target && verdict(f) !== 'ok');
  }

  render(header: string[]): string {
    const rows = this.all().map((f) => [
      f.label,
      f.note ?? format(f.median, f.unit),
      f.note ? '' : f.p99 === undefined ? '' : format(f.p99, f.unit),
      f.target?.text ?? '',
      f.floor ?? '',
      f.target ? verdict(f) : '',
      f.detail ?? '',
    ]);
    const head = ['figure', 'median', 'p99', 'target', 'floor (same run)', 'verdict', 'detail'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd();
    const out = [...header, ''];
    let section = 0;
    for (const [i, f] of this.all().entries()) {
      if (f.section !== section) {
        section = f.section;
        out.push(
          '',
          `(${section}) ${SECTION_TITLES[section]}`,
          line(head),
          line(head.map((_, j) => '-'.repeat(widths[j]))),
        );
      }
      out.push(line(rows[i]));
    }
    return out.join('\n');
  }
}

/** A ratio of two figures of the same run (NaN when either is missing), for "≤ 1.10× the floor" lines. */
export function ratio(numerator: number, denominator: number): number {
  return Number.isFinite(numerator) && Number.isFinite(denominator) && denominator > 0
    ? numerator / denominator
    : NaN;
}

export function verdict(f: Figure): 'ok' | 'MISSED' | 'not measured' {
  if (f.median === undefined || Number.isNaN(f.median)) return 'not measured';
  return f.target?.met(f) ? 'ok' : 'MISSED';
}

export function format(value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const digits = Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return unit ? `${text} ${unit}` : text;
}
