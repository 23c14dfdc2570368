import type { NodeCommandResultDto } from './dto/node-command.dto.js';

export function nodeCommandText(r: NodeCommandResultDto): string {
  const state = r.timed_out
    ? 'timed out (killed after the time limit)'
    : r.exit_code === 0
      ? 'succeeded'
      : `failed (${r.exit_code !== null ? `exit code ${r.exit_code}` : `signal ${r.signal ?? 'unknown'}`})`;
  const lines = [`Command on node ${r.node} (target ${r.target}) ${state} in ${r.duration_ms} ms.`];
  const cut = (truncated: boolean, total: number) =>
    truncated ? ` (truncated to ${r.output_limit_bytes} of ${total} bytes)` : '';
  if (r.stdout) lines.push('', `Output${cut(r.stdout_truncated, r.stdout_bytes)}:`, r.stdout.trimEnd());
  if (r.stderr) lines.push('', `Errors${cut(r.stderr_truncated, r.stderr_bytes)}:`, r.stderr.trimEnd());
  return lines.join('\n');
}
