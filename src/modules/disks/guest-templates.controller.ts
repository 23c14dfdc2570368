import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import { JobDto, WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { containerTemplateText } from './disks.text.js';
import { ContainerTemplateResultDto } from './dto/disks.dto.js';
import { GuestTemplatesService } from './guest-templates.service.js';

const IRREVERSIBLE = 'Irreversible: a template can never be started again, only cloned.';

/** Turning a stopped guest into a template that clones are made from. */
@ApiTags('disks')
@McpToolset('vms')
@Controller()
export class GuestTemplatesController {
  constructor(private readonly templates: GuestTemplatesService) {}

  @Post('nodes/:node/vms/:vmid/template')
  @HttpCode(202)
  @McpTool({
    name: 'convert_vm_to_template',
    title: 'Convert VM to template',
    description:
      `Turn a stopped VM into a template (its disks become read-only base images) for clone_vm. ${IRREVERSIBLE} ` +
      'A running VM or one that already is a template is refused with CONFLICT. Returns the job.',
    risk: 'destroy',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Allocate')],
    output: JobDto,
    text: jobText,
  })
  convertVm(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: WaitOptionsDto,
  ): Promise<JobDto> {
    return this.templates.convertVm(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/containers/:vmid/template')
  @HttpCode(200)
  @McpToolset('containers')
  @McpTool({
    name: 'convert_container_to_template',
    title: 'Convert container to template',
    description:
      `Turn a stopped container into a template for clone_container. ${IRREVERSIBLE} A running container or one ` +
      'that already is a template is refused with CONFLICT. Proxmox converts it at once (no job).',
    risk: 'destroy',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Allocate')],
    output: ContainerTemplateResultDto,
    text: containerTemplateText,
  })
  convertContainer(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
  ): Promise<ContainerTemplateResultDto> {
    return this.templates.convertContainer(p.node, p.vmid, q.target);
  }
}
