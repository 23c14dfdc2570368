import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NodeParamDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { SEE_GUESTS, SEE_NODES, SEE_STORAGE } from '../../common/tools/pve-privileges.js';
import {
  GuestVmidParamDto,
  MetricsHistoryDto,
  MetricsQueryDto,
  StorageMetricsParamDto,
  TopGuestsDto,
  TopGuestsQueryDto,
} from './dto/metrics-history.dto.js';
import { MetricsHistoryService } from './metrics-history.service.js';
import { metricsHistoryText, topGuestsText } from './metrics-history.text.js';
import { TopGuestsService } from './top-guests.service.js';
import { McpToolset } from '../../common/tools/toolsets.js';

const SERIES =
  ' The answer is compact: `timestamps` (epoch seconds, oldest first) once, and per metric its unit, a summary (avg, min, max, last, change first→last, least-squares slope_per_hour, trend rising/falling/flat) and `values`, one per timestamp (null where PVE has no data). include_series=false returns only the summaries.';

@ApiTags('metrics-history')
@McpToolset('metrics')
@Controller()
export class MetricsHistoryController {
  constructor(
    private readonly history: MetricsHistoryService,
    private readonly top: TopGuestsService,
  ) {}

  @Get('nodes/:node/metrics')
  @McpTool({
    name: 'get_node_metrics',
    title: 'Node metrics history',
    description:
      "A node's history from Proxmox's RRD over the last hour, day, week, month or year (70 points, AVERAGE or MAX per point): CPU and IO wait (%), load average, memory used/total/%, swap, network in/out (bytes/s) and, on PVE 9, pressure stall (PSI %) of CPU, IO and memory." +
      SERIES +
      ' Refused for an unknown or offline node.',
    risk: 'read',
    privileges: [SEE_NODES],
    output: MetricsHistoryDto,
    text: metricsHistoryText,
  })
  getNodeMetrics(@Param() p: NodeParamDto, @Query() q: MetricsQueryDto): Promise<MetricsHistoryDto> {
    return this.history.node(p.node, q);
  }

  @Get('guests/:vmid/metrics')
  @McpTool({
    name: 'get_guest_metrics',
    title: 'VM or container metrics history',
    description:
      "A VM's or container's history from Proxmox's RRD (its node is found from the inventory) over the last hour, day, week, month or year: CPU (% of its own CPUs), memory used/total/%, disk read/write and network in/out (bytes/s) and, on PVE 9, pressure stall (PSI %) of CPU, IO and memory. A stopped guest shows zeros." +
      SERIES +
      ' Refused for an unknown guest or one whose node is offline.',
    risk: 'read',
    privileges: [SEE_GUESTS],
    output: MetricsHistoryDto,
    text: metricsHistoryText,
  })
  getGuestMetrics(@Param() p: GuestVmidParamDto, @Query() q: MetricsQueryDto): Promise<MetricsHistoryDto> {
    return this.history.guest(p.vmid, q);
  }

  @Get('nodes/:node/storage/:storage/metrics')
  @McpTool({
    name: 'get_storage_metrics',
    title: 'Storage usage history',
    description:
      "A storage's usage on one node from Proxmox's RRD over the last hour, day, week, month or year: used and total bytes and used %, with the trend (how fast it fills)." +
      SERIES +
      ' Refused for an unknown or offline node, or a storage that is not on the node.',
    risk: 'read',
    privileges: [SEE_STORAGE],
    output: MetricsHistoryDto,
    text: metricsHistoryText,
  })
  getStorageMetrics(
    @Param() p: StorageMetricsParamDto,
    @Query() q: MetricsQueryDto,
  ): Promise<MetricsHistoryDto> {
    return this.history.storage(p.node, p.storage, q);
  }

  @Get('guests/top')
  @McpTool({
    name: 'get_top_guests',
    title: 'Busiest guests',
    description:
      'The running VMs and containers using most CPU (cores), memory (bytes), disk IO or network IO (read+write / in+out bytes/s) over the last hour, day, week, month or year, cluster-wide or on one node, VMs or containers only. Each with its mean over the timeframe, peak, % of its own CPUs or memory, trend and current value. Made in few requests: one inventory read ranks every guest by its current value, then only the top candidates (limit + max(limit, 10)) have their history read, 8 at a time; `upstream_requests` and `method` say what it cost.',
    risk: 'read',
    privileges: [SEE_GUESTS],
    output: TopGuestsDto,
    text: topGuestsText,
  })
  getTopGuests(@Query() q: TopGuestsQueryDto): Promise<TopGuestsDto> {
    return this.top.top(q);
  }
}
