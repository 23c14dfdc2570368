import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NodeParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { EmptyQueryDto } from '../../common/dto/empty.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { on, SEE_GUESTS, SEE_NODES } from '../../common/tools/pve-privileges.js';
import { ClusterService } from './cluster.service.js';
import { clusterStatusText, nodeStatusText, nodesText, poolsText, targetsText } from './cluster.text.js';
import { ClusterStatusDto, NodeListDto, NodeStatusDto, TargetListDto } from './dto/cluster.dto.js';
import { PoolListDto } from './dto/pools.dto.js';

@ApiTags('cluster')
@Controller()
export class ClusterController {
  constructor(private readonly cluster: ClusterService) {}

  @Get('nodes')
  @McpTool({
    name: 'get_nodes',
    title: 'List nodes',
    description:
      'List the cluster nodes with status, uptime, CPU cores and memory use (one cluster-wide call).',
    risk: 'read',
    privileges: [SEE_NODES],
    output: NodeListDto,
    text: nodesText,
  })
  getNodes(@Query() q: TargetQueryDto): Promise<NodeListDto> {
    return this.cluster.getNodes(q.target);
  }

  @Get('nodes/:node/status')
  @McpTool({
    name: 'get_node_status',
    title: 'Node status',
    description:
      "Detailed status of one node: CPU model and usage, load, memory, swap, root disk, PVE version. An unreachable node is reported from the cluster's view, flagged partial.",
    risk: 'read',
    privileges: [SEE_NODES],
    output: NodeStatusDto,
    text: nodeStatusText,
  })
  getNodeStatus(@Param() p: NodeParamDto, @Query() q: TargetQueryDto): Promise<NodeStatusDto> {
    return this.cluster.getNodeStatus(p.node, q.target);
  }

  @Get('cluster/status')
  @McpTool({
    name: 'get_cluster_status',
    title: 'Cluster status',
    description:
      'Cluster name, quorum and node membership. A standalone node is reported as such, not as lost quorum.',
    risk: 'read',
    privileges: [on('/', 'Sys.Audit')],
    output: ClusterStatusDto,
    text: clusterStatusText,
  })
  getClusterStatus(@Query() q: TargetQueryDto): Promise<ClusterStatusDto> {
    return this.cluster.getClusterStatus(q.target);
  }

  @Get('pools')
  @McpTool({
    name: 'list_pools',
    title: 'List resource pools',
    description:
      'Resource pools with their comment and the VMs and containers in each (vmid, name, type, node, status). Pass a pool name as `pool` to create_vm, create_container or the clone tools.',
    risk: 'read',
    // /pools lists the pools the token may audit (Pool.Audit on /pool/<pool>); their guests come from the inventory
    privileges: [SEE_GUESTS, on('/pool', 'Pool.Audit')],
    output: PoolListDto,
    text: poolsText,
  })
  listPools(@Query() q: TargetQueryDto): Promise<PoolListDto> {
    return this.cluster.listPools(q.target);
  }

  @Get('targets')
  @McpTool({
    name: 'list_targets',
    title: 'List targets',
    description:
      'The Proxmox clusters this server is configured for, with reachability and PVE version. Pass a name as `target` to other tools.',
    risk: 'read',
    privileges: [],
    output: TargetListDto,
    text: targetsText,
  })
  listTargets(@Query() _q: EmptyQueryDto): Promise<TargetListDto> {
    return this.cluster.listTargets();
  }
}
