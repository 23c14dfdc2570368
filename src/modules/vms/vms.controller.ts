import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestConfigDto } from '../../common/dto/guest.dto.js';
import { GuestListQueryDto } from '../../common/dto/list-query.dto.js';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../mcp/decorators/mcp-tool.decorator.js';
import { NextVmidDto, VmListDto } from './dto/vms.dto.js';
import { VmsService } from './vms.service.js';
import { guestConfigText } from '../../common/format/guest-config.text.js';
import { vmsText } from './vms.text.js';

@ApiTags('vms')
@Controller()
export class VmsController {
  constructor(private readonly vms: VmsService) {}

  @Get('vms')
  @McpTool({
    name: 'get_vms',
    title: 'List VMs',
    description:
      'List QEMU virtual machines across the cluster with status, node, cores and memory (one cluster-wide call). Filter by node or status; page with limit/offset.',
    risk: 'read',
    output: VmListDto,
    text: vmsText,
  })
  getVms(@Query() q: GuestListQueryDto): Promise<VmListDto> {
    return this.vms.getVms(q);
  }

  @Get('nodes/:node/vms/:vmid/config')
  @McpTool({
    name: 'get_vm_config',
    title: 'VM configuration',
    description: "A VM's configuration (disks, network, CPU, memory, cloud-init) and its digest.",
    risk: 'read',
    output: GuestConfigDto,
    text: guestConfigText,
  })
  getVmConfig(@Param() p: GuestParamDto, @Query() q: TargetQueryDto): Promise<GuestConfigDto> {
    return this.vms.getVmConfig(p.node, p.vmid, q.target);
  }

  @Get('cluster/next-vmid')
  @McpTool({
    name: 'get_next_vmid',
    title: 'Next free VM ID',
    description: 'The next free VM/container ID in the cluster (PVE /cluster/nextid).',
    risk: 'read',
    output: NextVmidDto,
    text: (r: NextVmidDto) => `Next free VM ID: ${r.vmid}`,
  })
  getNextVmid(@Query() q: TargetQueryDto): Promise<NextVmidDto> {
    return this.vms.getNextVmid(q.target);
  }
}
