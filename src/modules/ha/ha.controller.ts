import { Body, Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import {
  AddHaResourceBodyDto,
  HaResourceChangeDto,
  HaResourceListDto,
  HaResourceRemovedDto,
  HaStatusDto,
  HaVmidParamDto,
  UpdateHaResourceBodyDto,
} from './dto/ha.dto.js';
import { HaService } from './ha.service.js';
import { haResourceChangeText, haResourceRemovedText, haResourcesText, haStatusText } from './ha.text.js';

/** Every /cluster/ha read needs Sys.Audit on /, every change Sys.Console on / (pve-ha-manager's API). */
export const SEE_HA = on('/', 'Sys.Audit');
export const CHANGE_HA = on('/', 'Sys.Console');

@ApiTags('ha')
@McpToolset('ha')
@Controller()
export class HaController {
  constructor(private readonly ha: HaService) {}

  @Get('ha/status')
  @McpTool({
    name: 'get_ha_status',
    title: 'HA status',
    description:
      "High-availability status: quorum, the node running the HA manager, each node's manager and LRM state, and the state of every HA resource (started, stopped, fence, recovery, …).",
    risk: 'read',
    privileges: [SEE_HA],
    output: HaStatusDto,
    text: haStatusText,
  })
  getHaStatus(@Query() q: TargetQueryDto): Promise<HaStatusDto> {
    return this.ha.status(q.target);
  }

  @Get('ha/resources')
  @McpTool({
    name: 'list_ha_resources',
    title: 'List HA resources',
    description:
      'The VMs and containers under HA (vm:<vmid>, ct:<vmid>): requested state, HA state, node, restart and relocate limits, and the digest update_ha_resource can check.',
    risk: 'read',
    privileges: [SEE_HA, SEE_GUESTS],
    output: HaResourceListDto,
    text: haResourcesText,
  })
  listHaResources(@Query() q: TargetQueryDto): Promise<HaResourceListDto> {
    return this.ha.listResources(q.target);
  }

  @Post('ha/resources')
  @McpTool({
    name: 'add_ha_resource',
    title: 'Put a guest under HA',
    description:
      'Make a VM or container HA-managed: the HA manager keeps it in the requested state (default started: it is started now) and recovers it on another node when its node fails. Refused for an unknown guest, a template or a guest already under HA. Synchronous (no job).',
    risk: 'mutate',
    privileges: [SEE_HA, SEE_GUESTS, CHANGE_HA],
    output: HaResourceChangeDto,
    text: haResourceChangeText,
  })
  addHaResource(@Query() q: TargetQueryDto, @Body() b: AddHaResourceBodyDto): Promise<HaResourceChangeDto> {
    return this.ha.add(b, q.target);
  }

  @Put('ha/resources/:vmid')
  @McpTool({
    name: 'update_ha_resource',
    title: 'Change an HA resource',
    description:
      "Change an HA-managed guest's requested state (started, stopped, disabled, ignored), restart and relocate limits, failback or comment. The HA manager starts or stops the guest to match. Pass the digest from list_ha_resources to refuse a concurrent change. Synchronous (no job).",
    risk: 'mutate',
    privileges: [SEE_HA, CHANGE_HA],
    output: HaResourceChangeDto,
    text: haResourceChangeText,
  })
  updateHaResource(
    @Param() p: HaVmidParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdateHaResourceBodyDto,
  ): Promise<HaResourceChangeDto> {
    return this.ha.update(p.vmid, b, q.target);
  }

  @Delete('ha/resources/:vmid')
  @McpTool({
    name: 'remove_ha_resource',
    title: 'Take a guest out of HA',
    description:
      'Stop managing a guest with HA: it keeps running (or not) as it is, but is no longer recovered when its node fails; HA rules naming it drop it. Needs an approval by default.',
    risk: 'destroy',
    privileges: [SEE_HA, CHANGE_HA],
    output: HaResourceRemovedDto,
    text: haResourceRemovedText,
  })
  removeHaResource(@Param() p: HaVmidParamDto, @Query() q: TargetQueryDto): Promise<HaResourceRemovedDto> {
    return this.ha.remove(p.vmid, q.target);
  }
}
