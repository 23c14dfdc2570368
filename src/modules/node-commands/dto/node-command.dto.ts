import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import {
  CT_EXEC_DEFAULT_OUTPUT_BYTES,
  CT_EXEC_DEFAULT_TIMEOUT_SECONDS,
  CT_EXEC_MAX_OUTPUT_BYTES,
  CT_EXEC_MAX_TIMEOUT_SECONDS,
} from '../../containers/dto/container-exec.dto.js';

/** Longest command line accepted (the reference's limit). */
export const NODE_COMMAND_MAX_LENGTH = 8192;

/** execute_node_command: `node` comes from the path (REST) or the arguments (MCP), `target` from the query. */
export class ExecuteNodeCommandBodyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(NODE_COMMAND_MAX_LENGTH)
  @JSONSchema({
    description:
      'The command to run on the node, e.g. "zpool status -v". It runs WITHOUT a shell: it is split at spaces into ' +
      'the program and its arguments, so quotes, pipes, ;, &&, redirects and $(…) are refused. It must fully match ' +
      "one of the target's node_command_patterns (an operator's list).",
  })
  command: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(CT_EXEC_MAX_TIMEOUT_SECONDS)
  @JSONSchema({
    description: `Wall-clock seconds the command may run (1-${CT_EXEC_MAX_TIMEOUT_SECONDS}, default ${CT_EXEC_DEFAULT_TIMEOUT_SECONDS}); then it is killed on the node and the result says timed_out`,
  })
  timeout_seconds?: number;

  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(CT_EXEC_MAX_OUTPUT_BYTES)
  @JSONSchema({
    description: `Bytes of stdout and of stderr returned (each; 1024-${CT_EXEC_MAX_OUTPUT_BYTES}, default ${CT_EXEC_DEFAULT_OUTPUT_BYTES}); the rest is dropped and flagged`,
  })
  max_output_bytes?: number;
}

export class NodeCommandResultDto {
  @IsString() target: string;
  @IsString() node: string;

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
