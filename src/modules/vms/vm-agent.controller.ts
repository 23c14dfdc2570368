import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, anyOn, SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import { ExecResultDto, ExecuteVmCommandBodyDto, VmIpAddressesDto } from './dto/vm-agent.dto.js';
import { VmAgentService } from './vm-agent.service.js';
import { execResultText, ipAddressesText } from './vms.text.js';
import { EXEC_COMMAND_SUMMARY } from '../../security/policy/exec-command.js';

/** Tools that talk to the QEMU guest agent inside a VM. */
@ApiTags('vms')
@McpToolset('vms')
@Controller()
export class VmAgentController {
  constructor(private readonly agent: VmAgentService) {}

  @Get('nodes/:node/vms/:vmid/ip-addresses')
  @McpTool({
    name: 'get_vm_ip_addresses',
    title: 'VM IP addresses',
    description:
      "A running VM's network interfaces and IP addresses as its QEMU guest agent reports them, and the primary IPv4 to connect to.",
    risk: 'read',
    privileges: [SEE_GUESTS, anyOn('/vms', 'VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted')],
    output: VmIpAddressesDto,
    text: ipAddressesText,
  })
  getVmIpAddresses(@Param() p: GuestParamDto, @Query() q: TargetQueryDto): Promise<VmIpAddressesDto> {
    return this.agent.ipAddresses(p.node, p.vmid, q.target);
  }

  @Post('nodes/:node/vms/:vmid/exec')
  @HttpCode(200)
  @McpTool({
    name: 'execute_vm_command',
    title: 'Run a command in a VM',
    description:
      'Run a program inside a running VM through its QEMU guest agent and return exit_code, stdout and stderr (each capped at 64 KiB, with truncation flags). ' +
      `${EXEC_COMMAND_SUMMARY} Waits up to timeout_seconds (default 30, max 300), ` +
      'then returns timed_out. Subject to the server command policy.',
    risk: 'exec',
    privileges: [SEE_GUESTS, on('/vms', 'VM.GuestAgent.Unrestricted')],
    output: ExecResultDto,
    text: execResultText,
  })
  executeVmCommand(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: ExecuteVmCommandBodyDto,
  ): Promise<ExecResultDto> {
    return this.agent.execute(p.node, p.vmid, b, q.target);
  }
}
