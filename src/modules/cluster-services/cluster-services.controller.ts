import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { anyOn, on, SEE_GUESTS, SEE_NODES } from '../../common/tools/pve-privileges.js';
import { ClusterServicesService } from './cluster-services.service.js';
import {
  cephText,
  nodeUpdatesText,
  replicationText,
  sdnVnetsText,
  sdnZonesText,
} from './cluster-services.text.js';
import {
  CephStatusDto,
  NodeUpdatesListDto,
  NodeUpdatesQueryDto,
  ReplicationQueryDto,
  ReplicationStatusDto,
  SdnVnetListDto,
  SdnVnetQueryDto,
  SdnZoneListDto,
  SdnZoneQueryDto,
} from './dto/cluster-services.dto.js';

/** SDN listings show only the zones and VNets (/sdn/zones/<zone>[/<vnet>]) the token may audit or allocate. */
const SEE_SDN = anyOn('/sdn/zones', 'SDN.Audit', 'SDN.Allocate');

@ApiTags('cluster-services')
@McpToolset('cluster')
@Controller()
export class ClusterServicesController {
  constructor(private readonly services: ClusterServicesService) {}

  @Get('cluster/replication')
  @McpTool({
    name: 'get_replication_status',
    title: 'Storage replication status',
    description:
      'Storage replication jobs (guest, source and target node, schedule) with their state: ok, failing (with the error and failure count), syncing, disabled, or unknown when the source node is offline (partial). Last and next sync times. Filter by node or vmid.',
    risk: 'read',
    // replication.cfg and each job's state list only the guests the token may audit; nodes from the inventory
    privileges: [SEE_GUESTS, SEE_NODES],
    output: ReplicationStatusDto,
    text: replicationText,
  })
  getReplicationStatus(@Query() q: ReplicationQueryDto): Promise<ReplicationStatusDto> {
    return this.services.replicationStatus(q);
  }

  @Get('cluster/ceph')
  @McpTool({
    name: 'get_ceph_status',
    title: 'Ceph status',
    description:
      "Ceph cluster health (HEALTH_OK/WARN/ERR with each check's message), monitors in quorum, OSDs up/in, placement group states and raw usage. A cluster without Ceph answers configured=false, not an error.",
    risk: 'read',
    privileges: [anyOn('/', 'Sys.Audit', 'Datastore.Audit')],
    output: CephStatusDto,
    text: cephText,
  })
  getCephStatus(@Query() q: TargetQueryDto): Promise<CephStatusDto> {
    return this.services.cephStatus(q.target);
  }

  @Get('sdn/zones')
  @McpToolset('network')
  @McpTool({
    name: 'list_sdn_zones',
    title: 'List SDN zones',
    description:
      'Software-defined network zones (simple, vlan, qinq, vxlan, evpn) with bridge, MTU, peers and nodes, and whether each is applied or still pending (new/changed/deleted).',
    risk: 'read',
    privileges: [SEE_SDN],
    output: SdnZoneListDto,
    text: sdnZonesText,
  })
  listSdnZones(@Query() q: SdnZoneQueryDto): Promise<SdnZoneListDto> {
    return this.services.sdnZones(q);
  }

  @Get('sdn/vnets')
  @McpToolset('network')
  @McpTool({
    name: 'list_sdn_vnets',
    title: 'List SDN VNets',
    description:
      'SDN virtual networks with their zone, VLAN tag or VNI, alias and whether each is applied or still pending. A VNet name is usable as a guest network bridge.',
    risk: 'read',
    privileges: [SEE_SDN],
    output: SdnVnetListDto,
    text: sdnVnetsText,
  })
  listSdnVnets(@Query() q: SdnVnetQueryDto): Promise<SdnVnetListDto> {
    return this.services.sdnVnets(q);
  }

  @Get('updates')
  @McpTool({
    name: 'get_node_updates',
    title: 'Pending package updates',
    description:
      "Pending package updates per node (package, installed and new version, origin) from each node's apt cache, for one node or every online node (partial when one does not answer). Reads only; it does not refresh the cache.",
    risk: 'read',
    // PVE guards the apt listing with Sys.Modify, although it only reads
    privileges: [SEE_NODES, on('/nodes', 'Sys.Modify')],
    output: NodeUpdatesListDto,
    text: nodeUpdatesText,
  })
  getNodeUpdates(@Query() q: NodeUpdatesQueryDto): Promise<NodeUpdatesListDto> {
    return this.services.nodeUpdates(q);
  }
}
