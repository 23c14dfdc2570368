import { IsBoolean, IsIn, IsInt, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { CommandLimitsDto, CommandOutcomeDto } from '../../../common/dto/command-output.dto.js';
import { IsOpenSshPublicKeys } from '../../../common/validation/ssh-public-keys.js';
import { IsExecCommand, IsExecShell, type ExecPlace } from '../../../security/policy/exec-command.js';
import { SELECTOR_DESCRIPTION, SELECTOR_MAX_LENGTH } from './container-actions.dto.js';

const CONTAINER_EXEC: ExecPlace = { runs: 'in the container', shell: '/bin/sh -c inside the container' };

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

  @IsExecCommand(CONTAINER_EXEC)
  command: string[] | string;

  @IsExecShell(CONTAINER_EXEC)
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
