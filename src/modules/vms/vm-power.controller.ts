import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { JobDto, WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { POWER } from '../../common/tools/pve-privileges.js';
import { RebootVmBodyDto, ShutdownVmBodyDto, SuspendVmBodyDto } from './dto/vm-power.dto.js';
import { VmPowerService } from './vm-power.service.js';

const RETURNS = ' Returns the job (wait=true waits for the Proxmox task).';

/** Power actions: each is one Proxmox task, returned as a job. */
@ApiTags('vms')
@McpToolset('vms')
@Controller()
export class VmPowerController {
  constructor(private readonly power: VmPowerService) {}

  @Post('nodes/:node/vms/:vmid/start')
  @HttpCode(202)
  @McpTool({
    name: 'start_vm',
    title: 'Start VM',
    description:
      'Start a stopped VM (or one hibernated with suspend_vm todisk). A VM that already runs is refused with CONFLICT.' +
      RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  startVm(@Param() p: GuestParamDto, @Query() q: TargetQueryDto, @Body() b: WaitOptionsDto): Promise<JobDto> {
    return this.power.act('start', p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/stop')
  @HttpCode(202)
  @McpTool({
    name: 'stop_vm',
    title: 'Stop VM (hard)',
    description:
      'Stop a VM at once, like pulling the plug (shutdown_vm asks the guest OS instead).' + RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  stopVm(@Param() p: GuestParamDto, @Query() q: TargetQueryDto, @Body() b: WaitOptionsDto): Promise<JobDto> {
    return this.power.act('stop', p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/shutdown')
  @HttpCode(202)
  @McpTool({
    name: 'shutdown_vm',
    title: 'Shut down VM',
    description:
      'Ask the guest OS to power off (ACPI). timeout bounds the wait; forceStop hard-stops a guest that did not comply, so the VM surely ends stopped.' +
      RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  shutdownVm(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: ShutdownVmBodyDto,
  ): Promise<JobDto> {
    return this.power.act('shutdown', p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/reboot')
  @HttpCode(202)
  @McpTool({
    name: 'reboot_vm',
    title: 'Reboot VM',
    description: 'Reboot a running VM cleanly: the guest OS shuts down, then the VM starts again.' + RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  rebootVm(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: RebootVmBodyDto,
  ): Promise<JobDto> {
    return this.power.act('reboot', p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/reset')
  @HttpCode(202)
  @McpTool({
    name: 'reset_vm',
    title: 'Reset VM (hard)',
    description: 'Hard-reset a running VM, like the reset button (no clean shutdown).' + RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  resetVm(@Param() p: GuestParamDto, @Query() q: TargetQueryDto, @Body() b: WaitOptionsDto): Promise<JobDto> {
    return this.power.act('reset', p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/suspend')
  @HttpCode(202)
  @McpTool({
    name: 'suspend_vm',
    title: 'Suspend VM',
    description:
      'Pause a running VM in memory (resume_vm continues it), or with todisk hibernate it to disk (start_vm resumes it).' +
      RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  suspendVm(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: SuspendVmBodyDto,
  ): Promise<JobDto> {
    return this.power.act('suspend', p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/resume')
  @HttpCode(202)
  @McpTool({
    name: 'resume_vm',
    title: 'Resume VM',
    description: 'Continue a VM paused with suspend_vm.' + RETURNS,
    risk: 'power',
    privileges: POWER,
    output: JobDto,
    text: jobText,
  })
  resumeVm(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: WaitOptionsDto,
  ): Promise<JobDto> {
    return this.power.act('resume', p.node, p.vmid, b, q.target);
  }
}
