import type { CommandOutcomeDto } from '../../common/dto/command-output.dto.js';
import type { SshRunResult } from './ssh-executor.js';

/** The result fields of a command tool from what SshExecutor.run() reported (a timeout has no exit code). */
export function commandOutcome(result: SshRunResult, maxOutputBytes: number): CommandOutcomeDto {
  const exitCode = result.timedOut ? null : result.exitCode;
  return {
    success: !result.timedOut && exitCode === 0,
    exit_code: exitCode,
    ...(result.exitSignal && !result.timedOut ? { signal: result.exitSignal } : {}),
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
    stdout_truncated: result.stdoutTruncated,
    stderr_truncated: result.stderrTruncated,
    stdout_bytes: result.stdoutBytes,
    stderr_bytes: result.stderrBytes,
    timed_out: result.timedOut,
    output_limit_bytes: maxOutputBytes,
    duration_ms: result.durationMs,
  };
}
