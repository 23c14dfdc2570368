import { Body, Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NodeParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { EmptyQueryDto } from '../../common/dto/empty.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { anyOn, on, SEE_GUESTS, SEE_NODES, SEE_STORAGE } from '../../common/tools/pve-privileges.js';
import { ClusterService } from './cluster.service.js';
import {
  clusterStatusText,
  nodeStatusText,
  nodesText,
  poolChangeText,
  poolDeletedText,
  poolsText,
  targetsText,
} from './cluster.text.js';
import { ClusterStatusDto, NodeListDto, NodeStatusDto, TargetListDto } from './dto/cluster.dto.js';
import {
  CreatePoolBodyDto,
  PoolChangeDto,
  PoolDeletedDto,
  PoolListDto,
  PoolParamDto,
  UpdatePoolBodyDto,
} from './dto/pools.dto.js';
import { PoolsService } from './pools.service.js';

/** GET /pools lists the pools the token may audit; every pool tool reads it first. */
const SEE_POOLS = on('/pool', 'Pool.Audit');

@ApiTags('cluster')
@McpToolset('inventory')
@Controller()
export class ClusterController {
  constructor(
    private readonly cluster: ClusterService,
    private readonly pools: PoolsService,
  ) {}

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
  @McpToolset('cluster')
  @McpTool({
    name: 'list_pools',
    title: 'List resource pools',
    description:
      'Resource pools with their comment, the VMs and containers in each (vmid, name, type, node, status) and their storages. Pass a pool name as `pool` to create_vm, create_container or the clone tools.',
    risk: 'read',
    // the pools the token may audit (Pool.Audit on /pool/<pool>) and their storages; guests from the inventory
    privileges: [SEE_GUESTS, SEE_POOLS],
    output: PoolListDto,
    text: poolsText,
  })
  listPools(@Query() q: TargetQueryDto): Promise<PoolListDto> {
    return this.pools.listPools(q.target);
  }

  @Post('pools/:poolid')
  @McpToolset('cluster')
  @McpTool({
    name: 'create_pool',
    title: 'Create a resource pool',
    description:
      'Create an empty resource pool, with an optional comment. A nested pool is parent/child (the parent must exist). Refused if the pool exists. Synchronous (no job); update_pool adds guests and storages.',
    risk: 'mutate',
    privileges: [SEE_POOLS, on('/pool', 'Pool.Allocate')],
    output: PoolChangeDto,
    text: poolChangeText,
  })
  createPool(
    @Param() p: PoolParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CreatePoolBodyDto,
  ): Promise<PoolChangeDto> {
    return this.pools.create(p.poolid, b, q.target);
  }

  @Put('pools/:poolid')
  @McpToolset('cluster')
  @McpTool({
    name: 'update_pool',
    title: 'Update a resource pool',
    description:
      "Change a pool's comment and add or remove guests (vmids) and storages in one call. A guest already in another pool is refused unless allow_move is true (it then leaves that pool). Everything is checked before any change: unknown guests or storages, members already in the pool, removals of non-members. Synchronous (no job); returns the pool as it is afterwards.",
    risk: 'mutate',
    // PVE also checks the right to modify permissions on each guest and storage it adds or removes
    privileges: [
      SEE_POOLS,
      on('/pool', 'Pool.Allocate'),
      SEE_GUESTS,
      SEE_STORAGE,
      anyOn('/vms', 'Permissions.Modify', 'VM.Allocate'),
      anyOn('/storage', 'Permissions.Modify', 'Datastore.Allocate'),
    ],
    output: PoolChangeDto,
    text: poolChangeText,
  })
  updatePool(
    @Param() p: PoolParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdatePoolBodyDto,
  ): Promise<PoolChangeDto> {
    return this.pools.update(p.poolid, b, q.target);
  }

  @Delete('pools/:poolid')
  @McpToolset('cluster')
  @McpTool({
    name: 'delete_pool',
    title: 'Delete a resource pool',
    description:
      'Delete an empty resource pool. A pool that still holds guests, storages or sub-pools is refused with a CONFLICT naming them: take them out with update_pool first (they are not deleted). Needs an approval by default.',
    risk: 'destroy',
    privileges: [SEE_POOLS, on('/pool', 'Pool.Allocate')],
    output: PoolDeletedDto,
    text: poolDeletedText,
  })
  deletePool(@Param() p: PoolParamDto, @Query() q: TargetQueryDto): Promise<PoolDeletedDto> {
    return this.pools.delete(p.poolid, q.target);
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
