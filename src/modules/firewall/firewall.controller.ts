import { Body, Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { on, SEE_GUESTS, SEE_NODES } from '../../common/tools/pve-privileges.js';
import {
  AddFirewallRuleBodyDto,
  FirewallAliasListDto,
  FirewallDeleteQueryDto,
  FirewallIpsetListDto,
  FirewallOptionsResultDto,
  FirewallPosParamDto,
  FirewallRuleChangeDto,
  FirewallRuleDeletedDto,
  FirewallRuleListDto,
  FirewallScopeQueryDto,
  SetFirewallOptionsBodyDto,
  UpdateFirewallRuleBodyDto,
} from './dto/firewall.dto.js';
import { FirewallService } from './firewall.service.js';
import {
  firewallAliasesText,
  firewallIpsetsText,
  firewallOptionsText,
  firewallRuleChangeText,
  firewallRuleDeletedText,
  firewallRulesText,
} from './firewall.text.js';
import { McpToolset } from '../../common/tools/toolsets.js';

// pve-firewall's permissions, per scope: cluster.fw needs Sys.Audit / Sys.Modify on /, a host firewall the same
// on /nodes/{node}, a guest's VM.Audit / VM.Config.Network on /vms/{vmid}; guests and nodes are found in the
// inventory. A tool takes all three scopes, so it lists every scope's privilege.
const SEE_FIREWALL = [on('/', 'Sys.Audit'), SEE_NODES, SEE_GUESTS];
const CHANGE_FIREWALL = [
  ...SEE_FIREWALL,
  on('/', 'Sys.Modify'),
  on('/nodes', 'Sys.Modify'),
  on('/vms', 'VM.Config.Network'),
];
const SCOPE = 'Pick the firewall with scope: cluster, node (with node) or vm / container (with vmid).';

@ApiTags('firewall')
@McpToolset('firewall')
@Controller()
export class FirewallController {
  constructor(private readonly fw: FirewallService) {}

  @Get('firewall/rules')
  @McpTool({
    name: 'list_firewall_rules',
    title: 'List firewall rules',
    description: `The firewall rules of the cluster, a node or a guest in order (position 0 first; the first match decides): type, action or security group, macro, protocol, ports, source and destination, interface, log level, enabled, comment; and the list's digest for update_firewall_rule and delete_firewall_rule. ${SCOPE}`,
    risk: 'read',
    privileges: SEE_FIREWALL,
    output: FirewallRuleListDto,
    text: firewallRulesText,
  })
  listFirewallRules(@Query() q: FirewallScopeQueryDto): Promise<FirewallRuleListDto> {
    return this.fw.listRules(q);
  }

  @Post('firewall/rules')
  @McpTool({
    name: 'add_firewall_rule',
    title: 'Add a firewall rule',
    description: `Add a rule to the firewall of the cluster, a node or a guest: at position 0 (first) unless pos says where; enabled unless enable is false. Source and dest may name aliases and '+ipsets' (list_firewall_aliases, list_firewall_ipsets); they must exist. The firewall itself is switched on with set_firewall_options. ${SCOPE} Synchronous (no job).`,
    risk: 'mutate',
    privileges: CHANGE_FIREWALL,
    output: FirewallRuleChangeDto,
    text: firewallRuleChangeText,
  })
  addFirewallRule(
    @Query() q: FirewallScopeQueryDto,
    @Body() b: AddFirewallRuleBodyDto,
  ): Promise<FirewallRuleChangeDto> {
    return this.fw.addRule(q, b);
  }

  @Put('firewall/rules/:pos')
  @McpTool({
    name: 'update_firewall_rule',
    title: 'Change or move a firewall rule',
    description: `Change the rule at a position (fields given are set, an empty string removes an optional one), or move it with moveto (alone). Guarded by the rule list's digest: pass the one list_firewall_rules returned, else the current one is read first, so a list changed meanwhile is refused (CONFLICT) instead of the wrong rule being changed. ${SCOPE} Synchronous (no job).`,
    risk: 'mutate',
    privileges: CHANGE_FIREWALL,
    output: FirewallRuleChangeDto,
    text: firewallRuleChangeText,
  })
  updateFirewallRule(
    @Param() p: FirewallPosParamDto,
    @Query() q: FirewallScopeQueryDto,
    @Body() b: UpdateFirewallRuleBodyDto,
  ): Promise<FirewallRuleChangeDto> {
    return this.fw.updateRule(q, p.pos, b);
  }

  @Delete('firewall/rules/:pos')
  @McpTool({
    name: 'delete_firewall_rule',
    title: 'Delete a firewall rule',
    description: `Remove the rule at a position; the rules after it move up. Guarded by the rule list's digest (the one list_firewall_rules returned, else the current one read first). ${SCOPE} Needs an approval by default.`,
    risk: 'destroy',
    privileges: CHANGE_FIREWALL,
    output: FirewallRuleDeletedDto,
    text: firewallRuleDeletedText,
  })
  deleteFirewallRule(
    @Param() p: FirewallPosParamDto,
    @Query() q: FirewallDeleteQueryDto,
  ): Promise<FirewallRuleDeletedDto> {
    return this.fw.deleteRule(q, p.pos, q.digest);
  }

  @Get('firewall/options')
  @McpTool({
    name: 'get_firewall_options',
    title: 'Firewall options',
    description: `The firewall options of the cluster (master switch enable, default off; input/output policy, default DROP/ACCEPT), a node (host firewall enable, default on; log levels, conntrack and SYN flood settings) or a guest (enable, policies, DHCP, NDP, MAC and IP filter). Options at their default are absent. ${SCOPE}`,
    risk: 'read',
    privileges: SEE_FIREWALL,
    output: FirewallOptionsResultDto,
    text: firewallOptionsText,
  })
  getFirewallOptions(@Query() q: FirewallScopeQueryDto): Promise<FirewallOptionsResultDto> {
    return this.fw.getOptions(q);
  }

  @Put('firewall/options')
  @McpTool({
    name: 'set_firewall_options',
    title: 'Change firewall options',
    description: `Set firewall options (each scope takes only its own) or reset them to their default. Turning on a host firewall (enable at cluster or node scope, or a stricter cluster policy_in) is refused when, with input policy DROP or REJECT, no enabled incoming ACCEPT rule at cluster or node level opens 8006/tcp and 22/tcp and there is no 'management' ipset: the node would be cut off. Pass force: true to do it anyway. ${SCOPE} Synchronous (no job).`,
    risk: 'mutate',
    privileges: CHANGE_FIREWALL,
    output: FirewallOptionsResultDto,
    text: firewallOptionsText,
  })
  setFirewallOptions(
    @Query() q: FirewallScopeQueryDto,
    @Body() b: SetFirewallOptionsBodyDto,
  ): Promise<FirewallOptionsResultDto> {
    return this.fw.setOptions(q, b);
  }

  @Get('firewall/aliases')
  @McpTool({
    name: 'list_firewall_aliases',
    title: 'List firewall aliases',
    description:
      'The IP aliases (name = address or network) that rules can use as source or dest, of the cluster (scope cluster) or of one guest (scope vm or container with vmid; a guest rule sees its own and the cluster ones).',
    risk: 'read',
    privileges: SEE_FIREWALL,
    output: FirewallAliasListDto,
    text: firewallAliasesText,
  })
  listFirewallAliases(@Query() q: FirewallScopeQueryDto): Promise<FirewallAliasListDto> {
    return this.fw.listAliases(q);
  }

  @Get('firewall/ipsets')
  @McpTool({
    name: 'list_firewall_ipsets',
    title: 'List firewall IP sets',
    description:
      "The IP sets (named lists of addresses and networks, with nomatch exceptions) that rules use as '+name', each with its entries, of the cluster (scope cluster) or of one guest (scope vm or container with vmid). A cluster ipset named 'management' lets PVE's built-in rules reach the web UI and SSH.",
    risk: 'read',
    privileges: SEE_FIREWALL,
    output: FirewallIpsetListDto,
    text: firewallIpsetsText,
  })
  listFirewallIpsets(@Query() q: FirewallScopeQueryDto): Promise<FirewallIpsetListDto> {
    return this.fw.listIpsets(q);
  }
}
