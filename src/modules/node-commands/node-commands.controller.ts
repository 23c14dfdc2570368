import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NodeParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { SEE_NODES } from '../../common/tools/pve-privileges.js';
import { ExecuteNodeCommandBodyDto, NodeCommandResultDto } from './dto/node-command.dto.js';
import { NodeCommandsService } from './node-commands.service.js';
import { nodeCommandText } from './node-commands.text.js';

/** Commands on the Proxmox nodes themselves, over SSH; off unless a target enables them. */
@ApiTags('nodes')
@McpToolset('admin')
@Controller()
export class NodeCommandsController {
  constructor(private readonly nodeCommands: NodeCommandsService) {}

  @Post('nodes/:node/commands')
  @HttpCode(200)
  @McpTool({
    name: 'execute_node_command',
    title: 'Run a command on a Proxmox node',
    description:
      'Run one command on a Proxmox VE node itself over SSH (host key pinned) and return exit_code, stdout and stderr (capped, with truncation flags). ' +
      "Off unless the operator enabled it for the target; the command must fully match one of the target's node_command_patterns and runs without a shell. " +
      'Always needs a single-use operator approval. Killed after timeout_seconds (default 30).',
    risk: 'destroy',
    // the node list decides which SSH hosts may be reached; the command itself runs over SSH
    privileges: [SEE_NODES],
    output: NodeCommandResultDto,
    text: nodeCommandText,
  })
  executeNodeCommand(
    @Param() p: NodeParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: ExecuteNodeCommandBodyDto,
  ): Promise<NodeCommandResultDto> {
    return this.nodeCommands.execute(p.node, b, q.target);
  }
}
