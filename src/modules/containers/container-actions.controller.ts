import { Body, Controller, Delete, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NodeParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
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
  POWER,
} from '../../common/tools/pve-privileges.js';
import { ContainerActionsService } from './container-actions.service.js';
import { ContainerCreateService } from './container-create.service.js';
import { containerActionText } from './containers.text.js';
import {
  ContainerActionResultDto,
  ContainerSelectorBodyDto,
  DeleteContainersQueryDto,
  RestartContainersBodyDto,
  StopContainersBodyDto,
  UpdateContainerResourcesBodyDto,
} from './dto/container-actions.dto.js';
import { CreateContainerBodyDto } from './dto/container-create.dto.js';

const BULK =
  ' selector picks the containers (101, pve1:101, pve1/name, name; comma-separated). One container: a failure is the error; several: one OK/FAIL entry each.';
const WAITS = ' Each Proxmox task is a job (wait=true waits for it).';

/** Container lifecycle: create and the selector-based bulk actions of the reference project. */
@ApiTags('containers')
@McpToolset('containers')
@Controller()
export class ContainerActionsController {
  constructor(
    private readonly actions: ContainerActionsService,
    private readonly creator: ContainerCreateService,
  ) {}

  @Post('nodes/:node/containers')
  @HttpCode(202)
  @McpTool({
    name: 'create_container',
    title: 'Create container',
    description:
      'Create an LXC container from an OS template (list_templates): root disk on a storage that can hold containers and has room (most free space unless given), ' +
      'eth0 on a bridge (DHCP or a static IPv4; IPv6 by ip6/gw6), unprivileged by default, optional nesting, root password and SSH keys (sent, never stored), optional resource pool. ' +
      'Without vmid the next free ID is used; a taken ID (VM or container) is refused. Returns the job.',
    risk: 'mutate',
    privileges: [on('/vms', 'VM.Allocate'), USE_STORAGE, SEE_STORAGE, USE_BRIDGE],
    output: JobDto,
    text: jobText,
  })
  createContainer(
    @Param() p: NodeParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CreateContainerBodyDto,
  ): Promise<JobDto> {
    return this.creator.create(p.node, b, q.target);
  }

  @Post('containers/start')
  @HttpCode(202)
  @McpTool({
    name: 'start_container',
    title: 'Start containers',
    description: 'Start stopped containers.' + BULK + WAITS,
    risk: 'power',
    privileges: POWER,
    output: ContainerActionResultDto,
    text: containerActionText,
  })
  startContainer(
    @Query() q: TargetQueryDto,
    @Body() b: ContainerSelectorBodyDto,
  ): Promise<ContainerActionResultDto> {
    return this.actions.start(b, q.target);
  }

  @Post('containers/stop')
  @HttpCode(202)
  @McpTool({
    name: 'stop_container',
    title: 'Stop containers',
    description:
      'Stop running containers: a clean shutdown that may take timeout_seconds (default 10), then, if the container is still up, a hard stop (force_after_timeout, default true); ' +
      'graceful: false stops hard at once.' +
      BULK +
      WAITS,
    risk: 'power',
    privileges: POWER,
    output: ContainerActionResultDto,
    text: containerActionText,
  })
  stopContainer(
    @Query() q: TargetQueryDto,
    @Body() b: StopContainersBodyDto,
  ): Promise<ContainerActionResultDto> {
    return this.actions.stop(b, q.target);
  }

  @Post('containers/restart')
  @HttpCode(202)
  @McpTool({
    name: 'restart_container',
    title: 'Restart containers',
    description:
      'Reboot running containers cleanly; timeout_seconds (default 10) bounds the shutdown part, after which the reboot fails instead of hanging.' +
      BULK +
      WAITS,
    risk: 'power',
    privileges: POWER,
    output: ContainerActionResultDto,
    text: containerActionText,
  })
  restartContainer(
    @Query() q: TargetQueryDto,
    @Body() b: RestartContainersBodyDto,
  ): Promise<ContainerActionResultDto> {
    return this.actions.restart(b, q.target);
  }

  @Delete('containers')
  @HttpCode(202)
  @McpTool({
    name: 'delete_container',
    title: 'Delete containers',
    description:
      'Delete containers and their disks. Refused for protected or locked containers, and for running ones unless force=true ' +
      '(then each is stopped hard first and deleted once the stop finished). purge and destroy_unreferenced_disks are explicit.' +
      BULK +
      WAITS,
    risk: 'destroy',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Allocate', 'VM.PowerMgmt')],
    output: ContainerActionResultDto,
    text: containerActionText,
  })
  deleteContainer(@Query() q: DeleteContainersQueryDto): Promise<ContainerActionResultDto> {
    return this.actions.delete(q);
  }

  @Put('containers/resources')
  @McpTool({
    name: 'update_container_resources',
    title: 'Update container resources',
    description:
      'Change cores, memory (MiB) and swap (MiB) of containers (applied at once, also while running; guarded by the config digest) ' +
      'and grow a disk by disk_gb GiB (a resize job; disks never shrink).' +
      BULK,
    risk: 'mutate',
    privileges: [SEE_GUESTS, anyOn('/vms', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Disk')],
    output: ContainerActionResultDto,
    text: containerActionText,
  })
  updateContainerResources(
    @Query() q: TargetQueryDto,
    @Body() b: UpdateContainerResourcesBodyDto,
  ): Promise<ContainerActionResultDto> {
    return this.actions.updateResources(b, q.target);
  }
}
