import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, NodeParamDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS, SEE_NODES } from '../../common/tools/pve-privileges.js';
import {
  ClusterLogDto,
  ClusterLogQueryDto,
  GuestFirewallLogPageDto,
  GuestFirewallLogQueryDto,
  LogPageQueryDto,
  LOG_LIMIT_MAX,
  LogPageDto,
  SyslogPageDto,
  SyslogQueryDto,
} from './dto/logs.dto.js';
import { LogsService } from './logs.service.js';
import { clusterLogText, firewallLogText, guestFirewallLogText, syslogText } from './logs.text.js';

const PAGING = `Paged: start (from 0) and limit (default 50, at most ${LOG_LIMIT_MAX}); the answer gives total and next_start, and is cut at 256 KiB of text (truncated). since/until take ISO-8601 (UTC when no offset is given) or Unix epoch seconds.`;

@ApiTags('logs')
@McpToolset('metrics')
@Controller()
export class LogsController {
  constructor(private readonly logs: LogsService) {}

  @Get('nodes/:node/syslog')
  @McpTool({
    name: 'get_node_syslog',
    title: 'Node syslog',
    description: `Read a node's system journal (journalctl), oldest line first, optionally only one systemd unit (service, e.g. pvedaemon, pveproxy, corosync) and a time window. ${PAGING} Needs Sys.Syslog on the node (Sys.Audit too with since/until, to read the node's time zone).`,
    risk: 'read',
    // the journal needs Sys.Syslog on the node; since/until also read the node's time zone (/nodes/{node}/time)
    privileges: [on('/nodes', 'Sys.Syslog'), SEE_NODES],
    output: SyslogPageDto,
    text: syslogText,
  })
  getNodeSyslog(@Param() p: NodeParamDto, @Query() q: SyslogQueryDto): Promise<SyslogPageDto> {
    return this.logs.syslog(p.node, q);
  }

  @Get('cluster/log')
  @McpTool({
    name: 'get_cluster_log',
    title: 'Cluster log',
    description: `The newest entries of the cluster-wide log (task starts and ends, logins, HA and corosync events from every node), newest first; max (default 50, at most ${LOG_LIMIT_MAX}) entries, cut at 256 KiB of text. Without Sys.Syslog on / Proxmox shows only the token's own entries.`,
    risk: 'read',
    // /cluster/log is open to all, but shows only the token's own entries without Sys.Syslog on /
    privileges: [on('/', 'Sys.Syslog')],
    output: ClusterLogDto,
    text: clusterLogText,
  })
  getClusterLog(@Query() q: ClusterLogQueryDto): Promise<ClusterLogDto> {
    return this.logs.clusterLog(q);
  }

  @Get('nodes/:node/firewall/log')
  @McpToolset('firewall')
  @McpTool({
    name: 'get_node_firewall_log',
    title: 'Node firewall log',
    description: `Read a node's firewall log (pvefw-logger: host and guest rule hits with source, destination and ports), oldest line first, optionally within a time window. ${PAGING} Needs Sys.Syslog on the node.`,
    risk: 'read',
    // the firewall log needs Sys.Syslog on the node
    privileges: [on('/nodes', 'Sys.Syslog')],
    output: LogPageDto,
    text: firewallLogText,
  })
  getNodeFirewallLog(@Param() p: NodeParamDto, @Query() q: LogPageQueryDto): Promise<LogPageDto> {
    return this.logs.firewallLog(p.node, q);
  }

  @Get('nodes/:node/guests/:vmid/firewall/log')
  @McpToolset('firewall')
  @McpTool({
    name: 'get_guest_firewall_log',
    title: 'Guest firewall log',
    description: `Read the firewall log of one VM (vm_type qemu, default) or container (vm_type lxc): the rule hits pvefw-logger wrote for that guest on its node, oldest line first, optionally within a time window. ${PAGING} Needs VM.Console on the guest.`,
    risk: 'read',
    // VM.Console on the guest (and its config read first: VM.Audit)
    privileges: [SEE_GUESTS, on('/vms', 'VM.Console')],
    output: GuestFirewallLogPageDto,
    text: guestFirewallLogText,
  })
  getGuestFirewallLog(
    @Param() p: GuestParamDto,
    @Query() q: GuestFirewallLogQueryDto,
  ): Promise<GuestFirewallLogPageDto> {
    return this.logs.guestFirewallLog(p.node, p.vmid, q);
  }
}
