import { Body, Controller, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestNotesResultDto, SetDescriptionBodyDto } from '../guests/dto/guest-notes.dto.js';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { guestNotesText } from '../guests/guest-notes.text.js';
import { jobText } from '../../jobs/job.mapper.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS, SEE_NODES, USE_STORAGE, USE_BRIDGE } from '../../common/tools/pve-privileges.js';
import { ContainerConfigService } from './container-config.service.js';
import { containerNetworkText } from './container-config.text.js';
import {
  CloneContainerBodyDto,
  CloneContainerParamDto,
  CloneContainerResultDto,
  ContainerNetworkResultDto,
  UpdateContainerNetworkBodyDto,
} from './dto/container-config.dto.js';

/** A container's notes and network, and cloning it (the reference's 0.6 container tools). */
@ApiTags('containers')
@McpToolset('containers')
@Controller()
export class ContainerConfigController {
  constructor(private readonly config: ContainerConfigService) {}

  @Put('nodes/:node/containers/:vmid/description')
  @McpTool({
    name: 'set_container_description',
    title: 'Set container notes',
    description:
      "Replace a container's notes (the Notes panel, PVE description; Markdown). An empty string removes them. Guarded by the config digest; synchronous (no job). get_container_config shows them.",
    risk: 'mutate',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Config.Options')],
    output: GuestNotesResultDto,
    text: guestNotesText,
  })
  setContainerDescription(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: SetDescriptionBodyDto,
  ): Promise<GuestNotesResultDto> {
    return this.config.setDescription(p.node, p.vmid, b, q.target);
  }

  @Put('nodes/:node/containers/:vmid/network')
  @McpTool({
    name: 'update_container_network',
    title: 'Update container network',
    description:
      'Change an existing network device of a container (interface, default net0): its bridge (network_bridge, must exist on the node), IPv4 (ip: dhcp, manual or CIDR; gw) and IPv6 (ip6: auto, dhcp, manual or CIDR; gw6). MAC, VLAN tag, firewall and other settings are kept; an empty gw/gw6 removes that gateway, and dhcp/auto/manual drop it. A running container gets the change at once. Guarded by the config digest; synchronous (no job).',
    risk: 'mutate',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Config.Network'), SEE_NODES, USE_BRIDGE],
    output: ContainerNetworkResultDto,
    text: containerNetworkText,
  })
  updateContainerNetwork(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdateContainerNetworkBodyDto,
  ): Promise<ContainerNetworkResultDto> {
    return this.config.updateNetwork(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/containers/:source_vmid/clone')
  @HttpCode(202)
  @McpTool({
    name: 'clone_container',
    title: 'Clone container',
    description:
      'Copy a container or container template to a new ID (default: next free): a full copy by default, a linked clone (full=false) from a template; ' +
      'optionally to another node (shared storage), a storage or a resource pool, or from a snapshot (needed to copy a running container). Returns the job, with the new vmid.',
    risk: 'mutate',
    // the pool is checked in /pools (Pool.Audit); a clone into one needs VM.Allocate there (here: on /vms)
    privileges: [SEE_GUESTS, on('/vms', 'VM.Clone', 'VM.Allocate'), USE_STORAGE],
    output: CloneContainerResultDto,
    text: jobText,
  })
  cloneContainer(
    @Param() p: CloneContainerParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CloneContainerBodyDto,
  ): Promise<CloneContainerResultDto> {
    return this.config.clone(p.node, p.source_vmid, b, q.target);
  }
}
