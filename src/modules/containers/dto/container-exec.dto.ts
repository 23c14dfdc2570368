import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { EXEC_MAX_ARG_LENGTH, EXEC_MAX_ARGS } from '../../vms/dto/vm-agent.dto.js';
import { IsOpenSshPublicKeys } from '../../../common/validation/ssh-public-keys.js';
import { SELECTOR_DESCRIPTION, SELECTOR_MAX_LENGTH } from './container-actions.dto.js';

export const CT_EXEC_DEFAULT_TIMEOUT_SECONDS = 30;
export const CT_EXEC_MAX_TIMEOUT_SECONDS = 600;
export const CT_EXEC_DEFAULT_OUTPUT_BYTES = 64 * 1024;
export const CT_EXEC_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * execute_container_command. `command` and `shell` are also read by the global command-policy guard (every `exec`
 * tool), so the names and shapes match execute_vm_command.
 */
export class ExecuteContainerCommandBodyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(SELECTOR_MAX_LENGTH)
  @JSONSchema({ description: `${SELECTOR_DESCRIPTION} It must match exactly one container.` })
  selector: string;

  @IsString({ each: true })
  @MaxLength(EXEC_MAX_ARG_LENGTH, { each: true })
  @JSONSchema(() => ({
    anyOf: [
      {
        type: 'array',
        items: { type: 'string', maxLength: EXEC_MAX_ARG_LENGTH },
        minItems: 1,
        maxItems: EXEC_MAX_ARGS,
      },
      { type: 'string', minLength: 1, maxLength: EXEC_MAX_ARG_LENGTH },
    ],
    description:
      'The program and its arguments, run in the container without a shell: an array such as ["df", "-h", "/"] ' +
      '(every element reaches the program literally), or one string such as "df -h /" split into words by POSIX ' +
      'rules (quotes and backslashes; no shell syntax: pipes, redirects, ;, &&, $, backticks and globs need ' +
      'shell: true). With shell: true, one string run by /bin/sh -c inside the container.',
  }))
  command: string[] | string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Run command (one string) with /bin/sh -c inside the container, for pipes, &&, redirects, variables and globs (default false; the server policy may refuse it)',
  })
  shell?: boolean;

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

export class ContainerExecResultDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsString() name: string;

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

export const SSH_KEY_MODES = ['append', 'replace'] as const;

export class UpdateContainerSshKeysBodyDto {
  @IsOpenSshPublicKeys(
    "OpenSSH public keys for root's authorized_keys in the container: one per line, or one per array item",
    { optional: false },
  )
  public_keys: string | string[];

  @IsOptional()
  @IsIn(SSH_KEY_MODES)
  @JSONSchema({
    description:
      'append (default): add the keys that are not there yet; replace: authorized_keys becomes exactly these keys',
    default: 'append',
  })
  mode?: (typeof SSH_KEY_MODES)[number];
}

export class ContainerSshKeysResultDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsIn(SSH_KEY_MODES) mode: (typeof SSH_KEY_MODES)[number];

  @IsBoolean() success: boolean;

  @IsInt()
  @JSONSchema({ description: 'Keys written: in append mode only those that were not there yet' })
  keys_added: number;

  @IsInt()
  @JSONSchema({ description: 'Keys in /root/.ssh/authorized_keys afterwards' })
  keys_total: number;
}
