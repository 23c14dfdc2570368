import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestConfigDto } from '../guests/dto/guest.dto.js';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import { ContainersService } from './containers.service.js';
import { containerConfigTexts, containerIpTexts, containersText } from './containers.text.js';
import { ContainerIpDto, ContainerListDto, GetContainersQueryDto } from './dto/containers.dto.js';

@ApiTags('containers')
@McpToolset('containers')
@Controller()
export class ContainersController {
  constructor(private readonly containers: ContainersService) {}

  @Get('containers')
  @McpTool({
    name: 'get_containers',
    title: 'List containers',
    description:
      'List LXC containers with status, node, CPU and memory (one cluster-wide call). include_stats adds live per-container figures. Filter by node or status; page with limit/offset.',
    risk: 'read',
    privileges: [SEE_GUESTS],
    output: ContainerListDto,
    text: containersText,
  })
  getContainers(@Query() q: GetContainersQueryDto): Promise<ContainerListDto> {
    return this.containers.getContainers(q);
  }

  @Get('nodes/:node/containers/:vmid/config')
  @McpTool({
    name: 'get_container_config',
    title: 'Container configuration',
    description: "A container's configuration (rootfs, network, cores, memory, features) and its digest.",
    risk: 'read',
    privileges: [SEE_GUESTS],
    output: GuestConfigDto,
    text: containerConfigTexts,
  })
  getContainerConfig(@Param() p: GuestParamDto, @Query() q: TargetQueryDto): Promise<GuestConfigDto> {
    return this.containers.getContainerConfig(p.node, p.vmid, q.target);
  }

  @Get('nodes/:node/containers/:vmid/ip')
  @McpTool({
    name: 'get_container_ip',
    title: 'Container IP addresses',
    description: "A running container's network interfaces and its primary IPv4 address.",
    risk: 'read',
    privileges: [SEE_GUESTS],
    output: ContainerIpDto,
    text: containerIpTexts,
  })
  getContainerIp(@Param() p: GuestParamDto, @Query() q: TargetQueryDto): Promise<ContainerIpDto> {
    return this.containers.getContainerIp(p.node, p.vmid, q.target);
  }
}
