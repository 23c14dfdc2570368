import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsExecCommand, IsExecShell, type ExecPlace } from '../../../security/policy/exec-command.js';

export const GUEST_OSES = ['linux', 'windows'] as const;
export const EXEC_DEFAULT_TIMEOUT_SECONDS = 30;
export const EXEC_MAX_TIMEOUT_SECONDS = 300;
const VM_EXEC: ExecPlace = { runs: 'in the VM', shell: '/bin/sh -c (cmd.exe /c on Windows, see guest_os)' };

/**
 * execute_vm_command. The field names `command` and `shell` are also read by the global command-policy guard on
 * every `exec` tool; keep them.
 */
export class ExecuteVmCommandBodyDto {
  @IsExecCommand(VM_EXEC)
  command: string[] | string;

  @IsExecShell(VM_EXEC)
  shell?: boolean;

  @IsOptional()
  @IsIn(GUEST_OSES)
  @JSONSchema({
    description: 'Which shell shell: true uses: linux → /bin/sh -c, windows → cmd.exe /c (default linux)',
  })
  guest_os?: (typeof GUEST_OSES)[number];

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(EXEC_MAX_TIMEOUT_SECONDS)
  @JSONSchema({
    description: `Seconds to wait for the command to exit (1-${EXEC_MAX_TIMEOUT_SECONDS}, default ${EXEC_DEFAULT_TIMEOUT_SECONDS}); then the result says timed_out`,
  })
  timeout_seconds?: number;
}

export class ExecResultDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsInt() @JSONSchema({ description: 'PID of the process in the guest (qemu-guest-agent)' }) pid: number;

  @IsBoolean() @JSONSchema({ description: 'The process exited before the timeout' }) exited: boolean;

  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'Exit code; absent when the command timed out or was killed by a signal' })
  exit_code?: number;

  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'Signal (Windows: exception code) that ended the process abnormally' })
  signal?: number;

  @IsString() stdout: string;
  @IsString() stderr: string;

  @IsBoolean()
  @JSONSchema({ description: 'stdout was cut (by the guest agent or by the server cap)' })
  stdout_truncated: boolean;

  @IsBoolean()
  @JSONSchema({ description: 'stderr was cut (by the guest agent or by the server cap)' })
  stderr_truncated: boolean;

  @IsBoolean()
  @JSONSchema({
    description:
      'The command did not exit within timeout_seconds. It keeps running in the guest: the Proxmox API cannot stop it',
  })
  timed_out: boolean;

  @IsInt()
  @JSONSchema({ description: 'Byte cap applied to stdout and to stderr' })
  output_limit_bytes: number;
}

export class VmInterfaceDto {
  @IsString() name: string;
  @IsOptional() @IsString() mac_address?: string;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'IPv4 addresses in CIDR form' })
  ipv4: string[];
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'IPv6 addresses in CIDR form' })
  ipv6: string[];
}

export class VmIpAddressesDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => VmInterfaceDto)
  @JSONSchema({ description: 'Guest network interfaces with addresses (loopback left out)' })
  interfaces: VmInterfaceDto[];

  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'The first global IPv4 address (no prefix), the one to connect to; absent if none',
  })
  primary_ipv4?: string;
}
