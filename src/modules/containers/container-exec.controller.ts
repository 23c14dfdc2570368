import { Body, Controller, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import { ContainerExecService } from './container-exec.service.js';
import { containerExecTexts, sshKeysTexts } from './containers.text.js';
import {
  ContainerExecResultDto,
  ContainerSshKeysResultDto,
  ExecuteContainerCommandBodyDto,
  UpdateContainerSshKeysBodyDto,
} from './dto/container-exec.dto.js';
import { EXEC_COMMAND_SUMMARY } from '../../security/policy/exec-command.js';

/** Commands inside containers: SSH to the node and `pct exec` (needs the `ssh` configuration section). */
@ApiTags('containers')
@McpToolset('containers')
@Controller()
export class ContainerExecController {
  constructor(private readonly exec: ContainerExecService) {}

  @Post('containers/exec')
  @HttpCode(200)
  @McpTool({
    name: 'execute_container_command',
    title: 'Run a command in a container',
    description:
      'Run a program inside one running container (SSH to its node, pct exec) and return exit_code, stdout and stderr (capped, with truncation flags). ' +
      `${EXEC_COMMAND_SUMMARY} ` +
      'Killed after timeout_seconds (default 30). Subject to the server command policy; needs the ssh configuration.',
    risk: 'exec',
    // the command itself runs over SSH to the node (the doctor checks SSH separately)
    privileges: [SEE_GUESTS],
    output: ContainerExecResultDto,
    text: containerExecTexts,
  })
  executeContainerCommand(
    @Query() q: TargetQueryDto,
    @Body() b: ExecuteContainerCommandBodyDto,
  ): Promise<ContainerExecResultDto> {
    return this.exec.execute(b, q.target);
  }

  @Put('nodes/:node/containers/:vmid/ssh-keys')
  @McpTool({
    name: 'update_container_ssh_keys',
    title: "Update root's SSH keys in a container",
    description:
      "Add OpenSSH public keys to root's authorized_keys inside a running container (mode append, skipping keys already there), or replace the file (mode replace). " +
      'Keys are checked as OpenSSH public keys. Runs through SSH and pct exec like execute_container_command and is subject to the command policy ' +
      '(as the command "update_container_ssh_keys append|replace").',
    risk: 'destroy',
    // the command itself runs over SSH to the node (the doctor checks SSH separately)
    privileges: [SEE_GUESTS],
    output: ContainerSshKeysResultDto,
    text: sshKeysTexts,
  })
  updateContainerSshKeys(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdateContainerSshKeysBodyDto,
  ): Promise<ContainerSshKeysResultDto> {
    return this.exec.updateSshKeys(p.node, p.vmid, b, q.target);
  }
}
