/** One line of the doctor's report. Nothing in it may carry a secret (token, password, key). */
export interface DoctorRow {
  status: 'pass' | 'warn' | 'fail';
  /** What was checked, e.g. `config`, `connection`, `privileges`, `ssh pve1`, `job store`. */
  check: string;
  /** The target (cluster) the row is about; absent for server-wide checks. */
  target?: string;
  message: string;
  /** What to do about it; present on every warn and fail. */
  fix?: string;
}

export interface DoctorReport {
  rows: DoctorRow[];
  summary: { pass: number; warn: number; fail: number };
  /** 0 when nothing failed (warnings alone do not fail), 1 otherwise. */
  exit_code: 0 | 1;
}

export function buildReport(rows: DoctorRow[]): DoctorReport {
  const count = (status: DoctorRow['status']) => rows.filter((r) => r.status === status).length;
  const summary = { pass: count('pass'), warn: count('warn'), fail: count('fail') };
  return { rows, summary, exit_code: summary.fail > 0 ? 1 : 0 };
}

const LABEL: Record<DoctorRow['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

/** The human table: status, check (target: check), message; the fix indented on the lines below. */
export function renderTable(report: DoctorReport): string {
  const name = (r: DoctorRow) => (r.target ? `${r.target}: ${r.check}` : r.check);
  const width = Math.min(34, Math.max(...report.rows.map((r) => name(r).length), 5));
  const lines = ['proxmox-mcp-plus doctor', ''];
  for (const row of report.rows) {
    // continuation lines of a message (a config error lists one problem per line) stay in the message column
    const [first, ...rest] = row.message.split('\n');
    lines.push(`${LABEL[row.status]}  ${name(row).padEnd(width)}  ${first}`);
    for (const line of rest) lines.push(`${' '.repeat(width + 8)}${line}`);
    if (row.fix) {
      for (const [i, line] of row.fix.split('\n').entries()) {
        lines.push(`${' '.repeat(6)}${i === 0 ? 'fix: ' : '     '}${line}`);
      }
    }
  }
  const { pass, warn, fail } = report.summary;
  lines.push('', `${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed.`);
  if (fail > 0) lines.push('Result: FAIL (exit code 1): fix the FAIL rows above.');
  else if (warn > 0) {
    lines.push(
      'Result: OK with warnings (exit code 0): the server runs, but the WARN rows name what will not work.',
    );
  } else lines.push('Result: OK (exit code 0).');
  return `${lines.join('\n')}\n`;
}
