import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestConfigDto } from '../guests/dto/guest.dto.js';
import { GuestListQueryDto } from '../guests/dto/guest-list-query.dto.js';
import { GuestParamDto, NodeParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import {
  on,
  anyOn,
  SEE_GUESTS,
  SEE_STORAGE,
  USE_STORAGE,
  USE_BRIDGE,
} from '../../common/tools/pve-privileges.js';
import {
  CloneVmBodyDto,
  CloneVmParamDto,
  CreateVmBodyDto,
  DeleteVmQueryDto,
  UpdateVmConfigBodyDto,
  UpdateVmConfigResultDto,
} from './dto/vm-lifecycle.dto.js';
import { NextVmidDto, VmListDto } from './dto/vms.dto.js';
import { VmLifecycleService } from './vm-lifecycle.service.js';
import { VmsService } from './vms.service.js';
import { guestConfigText } from '../guests/guest-config.text.js';
import { updateConfigText, vmsText } from './vms.text.js';

@ApiTags('vms')
@McpToolset('vms')
@Controller()
export class VmsController {
  constructor(
    private readonly vms: VmsService,
    private readonly lifecycle: VmLifecycleService,
  ) {}

  @Get('vms')
  @McpTool({
    name: 'get_vms',
    title: 'List VMs',
    description:
      'List QEMU virtual machines across the cluster with status, node, cores and memory (one cluster-wide call). Filter by node or status; page with limit/offset.',
    risk: 'read',
    privileges: [SEE_GUESTS],
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
    privileges: [SEE_GUESTS],
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
    privileges: [],
    output: NextVmidDto,
    text: (r: NextVmidDto) => `Next free VM ID: ${r.vmid}`,
  })
  getNextVmid(@Query() q: TargetQueryDto): Promise<NextVmidDto> {
    return this.vms.getNextVmid(q.target);
  }

  @Post('nodes/:node/vms')
  @HttpCode(202)
  @McpTool({
    name: 'create_vm',
    title: 'Create VM',
    description:
      'Create a QEMU VM that can boot: system disk (storage picked by free space unless given), virtio NIC, guest agent on, ' +
      'optional installer ISO and cloud-init (ciuser, sshkeys, ipconfig0, cipassword), boot order, resource pool. Without vmid the next free ID is used. Returns the job.',
    risk: 'mutate',
    privileges: [on('/vms', 'VM.Allocate'), USE_STORAGE, SEE_STORAGE, USE_BRIDGE],
    output: JobDto,
    text: jobText,
  })
  createVm(
    @Param() p: NodeParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CreateVmBodyDto,
  ): Promise<JobDto> {
    return this.lifecycle.create(p.node, b, q.target);
  }

  @Post('nodes/:node/vms/:source_vmid/clone')
  @HttpCode(202)
  @McpTool({
    name: 'clone_vm',
    title: 'Clone VM',
    description:
      'Copy a VM or template to a new VM ID (default: next free): full copy by default, linked clone (full=false) from a template; ' +
      'optionally to another node, storage or pool, or from a snapshot. Returns the job.',
    risk: 'mutate',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Clone', 'VM.Allocate'), USE_STORAGE],
    output: JobDto,
    text: jobText,
  })
  cloneVm(
    @Param() p: CloneVmParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CloneVmBodyDto,
  ): Promise<JobDto> {
    return this.lifecycle.clone(p.node, p.source_vmid, b, q.target);
  }

  @Put('nodes/:node/vms/:vmid/config')
  @McpTool({
    name: 'update_vm_config',
    title: 'Update VM configuration',
    description:
      'Change memory, cores, sockets, name, tags, description or cloud-init settings of a VM; attach an ISO to its CD-ROM drive or eject it (iso_volume: none), ' +
      'set the boot order (boot_order, devices that exist) or move net0 to another bridge (network_bridge). Guarded by the config digest ' +
      '(pass the one from get_vm_config, or the current one is used): a concurrent edit is refused with CONFLICT, not overwritten. ' +
      'Synchronous (no job); says which changes wait for the next start.',
    risk: 'mutate',
    privileges: [
      SEE_GUESTS,
      anyOn(
        '/vms',
        'VM.Config.Disk',
        'VM.Config.CDROM',
        'VM.Config.CPU',
        'VM.Config.Memory',
        'VM.Config.Network',
        'VM.Config.HWType',
        'VM.Config.Options',
        'VM.Config.Cloudinit',
      ),
    ],
    output: UpdateVmConfigResultDto,
    text: updateConfigText,
  })
  updateVmConfig(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdateVmConfigBodyDto,
  ): Promise<UpdateVmConfigResultDto> {
    return this.lifecycle.updateConfig(p.node, p.vmid, b, q.target);
  }

  @Delete('nodes/:node/vms/:vmid')
  @HttpCode(202)
  @McpTool({
    name: 'delete_vm',
    title: 'Delete VM',
    description:
      'Delete a VM and its disks. Refused for a protected or locked VM, and for a running one unless force=true ' +
      '(then it is hard-stopped first and deleted once the stop finished). purge and destroy_unreferenced_disks are explicit. Returns the job.',
    risk: 'destroy',
    // force: true stops a running VM first
    privileges: [SEE_GUESTS, on('/vms', 'VM.Allocate', 'VM.PowerMgmt')],
    output: JobDto,
    text: jobText,
  })
  deleteVm(@Param() p: GuestParamDto, @Query() q: DeleteVmQueryDto): Promise<JobDto> {
    return this.lifecycle.delete(p.node, p.vmid, q);
  }
}
