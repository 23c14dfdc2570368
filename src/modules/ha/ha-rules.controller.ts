import { Body, Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { SEE_NODES } from '../../common/tools/pve-privileges.js';
import {
  AddHaRuleBodyDto,
  HaRuleChangeDto,
  HaRuleListDto,
  HaRuleListQueryDto,
  HaRuleParamDto,
  HaRuleRemovedDto,
  UpdateHaRuleBodyDto,
} from './dto/ha-rules.dto.js';
import { CHANGE_HA, SEE_HA } from './ha.controller.js';
import { HaRulesService } from './ha-rules.service.js';
import { haRuleChangeText, haRuleRemovedText, haRulesText } from './ha-rules.text.js';
import { McpToolset } from '../../common/tools/toolsets.js';

/** PVE 9 HA rules: where HA resources run (node affinity) and which run together or apart (resource affinity). */
@ApiTags('ha')
@McpToolset('ha')
@Controller()
export class HaRulesController {
  constructor(private readonly rules: HaRulesService) {}

  @Get('ha/rules')
  @McpTool({
    name: 'list_ha_rules',
    title: 'List HA rules',
    description:
      'The HA rules (PVE 9; they replace HA groups): node-affinity rules (HA resources run on the listed nodes, by priority; strict = only there) and resource-affinity rules (resources kept on one node or on separate nodes), with the digest update_ha_rule can check. Filter by type or by a guest (vmid).',
    risk: 'read',
    privileges: [SEE_HA],
    output: HaRuleListDto,
    text: haRulesText,
  })
  listHaRules(@Query() q: HaRuleListQueryDto): Promise<HaRuleListDto> {
    return this.rules.list(q);
  }

  @Post('ha/rules')
  @McpTool({
    name: 'add_ha_rule',
    title: 'Add an HA rule',
    description:
      'Create an HA rule. node-affinity: resources (HA resources, e.g. vm:100) run on nodes (`node` or `node:priority`, higher preferred; strict=true: only there). resource-affinity: resources (at least two) kept together (affinity positive) or apart (negative). Refused before any change for an unknown resource or node, a rule ID in use, a resource already in another node-affinity rule, or a field of the other rule type. Synchronous (no job).',
    risk: 'mutate',
    privileges: [SEE_HA, SEE_NODES, CHANGE_HA],
    output: HaRuleChangeDto,
    text: haRuleChangeText,
  })
  addHaRule(@Query() q: TargetQueryDto, @Body() b: AddHaRuleBodyDto): Promise<HaRuleChangeDto> {
    return this.rules.add(b, q.target);
  }

  @Put('ha/rules/:rule')
  @McpTool({
    name: 'update_ha_rule',
    title: 'Change an HA rule',
    description:
      "Change an HA rule's resources, nodes and strict (node-affinity), affinity (resource-affinity), disable or enable it, or set its comment (empty clears it). Its type cannot change. Pass the digest from list_ha_rules to refuse a concurrent change. Synchronous (no job).",
    risk: 'mutate',
    privileges: [SEE_HA, SEE_NODES, CHANGE_HA],
    output: HaRuleChangeDto,
    text: haRuleChangeText,
  })
  updateHaRule(
    @Param() p: HaRuleParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdateHaRuleBodyDto,
  ): Promise<HaRuleChangeDto> {
    return this.rules.update(p.rule, b, q.target);
  }

  @Delete('ha/rules/:rule')
  @McpTool({
    name: 'delete_ha_rule',
    title: 'Delete an HA rule',
    description:
      'Delete an HA rule: its resources are no longer placed by it (the HA manager may move them, e.g. back to preferred nodes of other rules). The HA resources themselves stay. Needs an approval by default.',
    risk: 'destroy',
    privileges: [SEE_HA, CHANGE_HA],
    output: HaRuleRemovedDto,
    text: haRuleRemovedText,
  })
  deleteHaRule(@Param() p: HaRuleParamDto, @Query() q: TargetQueryDto): Promise<HaRuleRemovedDto> {
    return this.rules.remove(p.rule, q.target);
  }
}
