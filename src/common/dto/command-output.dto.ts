import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

/** Limits of a command run over SSH (execute_container_command, execute_node_command). */
export const COMMAND_DEFAULT_TIMEOUT_SECONDS = 30;
export const COMMAND_MAX_TIMEOUT_SECONDS = 600;
export const COMMAND_DEFAULT_OUTPUT_BYTES = 64 * 1024;
export const COMMAND_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * The optional time and output caps of a command tool's body. Subclasses declare their own fields first, so in the
 * generated schemas these two come last (class-validator-jsonschema lists own properties before inherited ones).
 */
export class CommandLimitsDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(COMMAND_MAX_TIMEOUT_SECONDS)
  @JSONSchema({
    description: `Wall-clock seconds the command may run (1-${COMMAND_MAX_TIMEOUT_SECONDS}, default ${COMMAND_DEFAULT_TIMEOUT_SECONDS}); then it is killed on the node and the result says timed_out`,
  })
  timeout_seconds?: number;

  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(COMMAND_MAX_OUTPUT_BYTES)
  @JSONSchema({
    description: `Bytes of stdout and of stderr returned (each; 1024-${COMMAND_MAX_OUTPUT_BYTES}, default ${COMMAND_DEFAULT_OUTPUT_BYTES}); the rest is dropped and flagged`,
  })
  max_output_bytes?: number;
}

/** The limits a call runs with: its own or the defaults. */
export function commandLimits(dto: CommandLimitsDto): { timeoutSeconds: number; maxOutputBytes: number } {
  return {
    timeoutSeconds: dto.timeout_seconds ?? COMMAND_DEFAULT_TIMEOUT_SECONDS,
    maxOutputBytes: dto.max_output_bytes ?? COMMAND_DEFAULT_OUTPUT_BYTES,
  };
}

/** How a command ended and what it wrote; a result DTO's own fields (where it ran) come before these. */
export class CommandOutcomeDto {
  @IsBoolean()
  @JSONSchema({ description: 'The command exited with code 0 before the timeout' })
  success: boolean;

  @IsOptional()
  @IsInt()
  @JSONSchema({
    type: ['integer', 'null'],
    description: 'Exit code of the command; null when it was killed (timeout) or ended by a signal',
  })
  exit_code: number | null;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The signal that ended the command, when the node reported one' })
  signal?: string;

  @IsString() stdout: string;
  @IsString() stderr: string;

  @IsBoolean()
  @JSONSchema({ description: 'stdout was longer than output_limit_bytes and was cut' })
  stdout_truncated: boolean;

  @IsBoolean()
  @JSONSchema({ description: 'stderr was longer than output_limit_bytes and was cut' })
  stderr_truncated: boolean;

  @IsInt()
  @JSONSchema({ description: 'Bytes the command wrote to stdout (including dropped ones)' })
  stdout_bytes: number;
  @IsInt()
  @JSONSchema({ description: 'Bytes the command wrote to stderr (including dropped ones)' })
  stderr_bytes: number;

  @IsBoolean()
  @JSONSchema({
    description:
      'The command did not finish within timeout_seconds and was killed on the node (coreutils timeout)',
  })
  timed_out: boolean;

  @IsInt()
  @JSONSchema({ description: 'Byte cap applied to stdout and to stderr' })
  output_limit_bytes: number;
  @IsInt() duration_ms: number;
}
