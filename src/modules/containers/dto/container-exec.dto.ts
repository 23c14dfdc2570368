import { IsBoolean, IsIn, IsInt, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { EXEC_MAX_ARG_LENGTH, EXEC_MAX_ARGS } from '../../vms/dto/vm-agent.dto.js';
import { CommandLimitsDto, CommandOutcomeDto } from '../../../common/dto/command-output.dto.js';
import { IsOpenSshPublicKeys } from '../../../common/validation/ssh-public-keys.js';
import { SELECTOR_DESCRIPTION, SELECTOR_MAX_LENGTH } from './container-actions.dto.js';

/**
 * execute_container_command. `command` and `shell` are also read by the global command-policy guard (every `exec`
 * tool), so the names and shapes match execute_vm_command.
 */
export class ExecuteContainerCommandBodyDto extends CommandLimitsDto {
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
}

export class ContainerExecResultDto extends CommandOutcomeDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsString() name: string;
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
