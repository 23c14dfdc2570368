import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { InventoryService, type InventoryResources } from '../../proxmox/inventory.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import {
  replicationSummary,
  toCephStatus,
  toNodeUpdates,
  toReplicationJob,
  toSdnVnet,
  toSdnZone,
  type PveCephStatus,
  type PvePackageUpdate,
  type PveReplicationJob,
  type PveReplicationJobStatus,
  type PveSdnVnet,
  type PveSdnZone,
} from './cluster-services.mapper.js';
import type {
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

/** PVE's check_ceph_installed / check_ceph_inited refusals: a cluster without Ceph, which is not a failure. */
const CEPH_ABSENT =
  /binary not installed|not initialized|ceph is not installed|rados_connect failed - no such file or directory/i;

/**
 * Read-only health of the cluster services beside guests and storage: storage replication, Ceph, SDN and pending
 * package updates. Per-node reads go to online nodes only, in parallel; a node that does not answer makes the
 * result partial instead of failing it, unless the caller asked for that one node.
 */
@Injectable()
export class ClusterServicesService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
  ) {}

  /**
   * The jobs from replication.cfg (one cluster-wide read), with their state from the node each guest runs on:
   * only that node holds the job's state file, so one GET /nodes/{node}/replication per source node.
   */
  async replicationStatus(q: ReplicationQueryDto): Promise<ReplicationStatusDto> {
    const client = this.gateway.client(q.target);
    const [jobs, snap] = await Promise.all([
      client.get<PveReplicationJob[]>('/cluster/replication'),
      this.resources.clusterResources('node', q.target),
    ]);
    if (q.node !== undefined) requireNode(snap, q.node);
    const selected = jobs
      .filter(
        (j) =>
          (q.vmid === undefined || num(j.guest) === q.vmid) && (q.node === undefined || j.source === q.node),
      )
      .sort((a, b) => num(a.guest) - num(b.guest) || a.id.localeCompare(b.id));
    const online = onlineNodes(snap);
    const sources =
      q.node !== undefined ? [q.node] : [...new Set(selected.flatMap((j) => (j.source ? [j.source] : [])))];
    const unavailable = new Set<string>();
    const statusByNode = new Map<string, Map<string, PveReplicationJobStatus>>();
    await Promise.all(
      sources.map(async (node) => {
        if (q.node === undefined && !online.includes(node)) {
          unavailable.add(node);
          return;
        }
        try {
          const rows = await client.get<PveReplicationJobStatus[]>(
            pvePath`/nodes/${node}/replication`,
            q.vmid !== undefined ? { guest: q.vmid } : undefined,
          );
          statusByNode.set(node, new Map(rows.map((r) => [r.id, r])));
        } catch (error) {
          if (q.node !== undefined) throw error; // asked for one node: its failure is the answer
          unavailable.add(node);
        }
      }),
    );
    const result = selected.map((job) => {
      const statuses = job.source ? statusByNode.get(job.source) : undefined;
      return toReplicationJob(job, statuses?.get(job.id), statuses !== undefined);
    });
    return {
      target: snap.target,
      jobs: result,
      summary: replicationSummary(result),
      partial: unavailable.size > 0,
      unavailable_nodes: [...unavailable].sort(),
    };
  }

  async cephStatus(target?: string): Promise<CephStatusDto> {
    const { config, client } = this.gateway.resolve(target);
    try {
      return toCephStatus(config.name, await client.get<PveCephStatus>('/cluster/ceph/status'));
    } catch (error) {
      if (!isDomainError(error) || error.code !== 'UPSTREAM_ERROR' || !CEPH_ABSENT.test(error.message))
        throw error;
      return {
        target: config.name,
        configured: false,
        message: 'Ceph is not installed or not configured on this cluster',
        checks: [],
      };
    }
  }

  /** `pending=1`: a zone or VNet created or changed but not applied yet carries its state. */
  async sdnZones(q: SdnZoneQueryDto): Promise<SdnZoneListDto> {
    const { config, client } = this.gateway.resolve(q.target);
    const rows = await client.get<PveSdnZone[]>('/cluster/sdn/zones', {
      pending: 1,
      ...(q.type ? { type: q.type } : {}),
    });
    return { target: config.name, zones: rows.map(toSdnZone).sort((a, b) => a.zone.localeCompare(b.zone)) };
  }

  async sdnVnets(q: SdnVnetQueryDto): Promise<SdnVnetListDto> {
    const { config, client } = this.gateway.resolve(q.target);
    const rows = await client.get<PveSdnVnet[]>('/cluster/sdn/vnets', { pending: 1 });
    const vnets = rows
      .map(toSdnVnet)
      .filter((v) => q.zone === undefined || v.zone === q.zone)
      .sort((a, b) => a.vnet.localeCompare(b.vnet));
    return { target: config.name, vnets };
  }

  /**
   * The node's apt cache as PVE's daily update check left it (GET only reads it; refreshing is a POST that
   * runs `apt-get update` as a task, which a read tool does not do).
   */
  async nodeUpdates(q: NodeUpdatesQueryDto): Promise<NodeUpdatesListDto> {
    const client = this.gateway.client(q.target);
    const snap = await this.resources.clusterResources('node', q.target);
    if (q.node !== undefined) requireNode(snap, q.node);
    const nodes = q.node !== undefined ? [q.node] : onlineNodes(snap);
    const unavailable = new Set(q.node !== undefined ? [] : snap.unavailableNodes);
    const perNode = await Promise.all(
      nodes.map(async (node) => {
        try {
          return [
            toNodeUpdates(node, await client.get<PvePackageUpdate[]>(pvePath`/nodes/${node}/apt/update`)),
          ];
        } catch (error) {
          if (q.node !== undefined) throw error; // asked for one node: its failure is the answer
          unavailable.add(node);
          return [];
        }
      }),
    );
    const listed = perNode.flat().sort((a, b) => a.node.localeCompare(b.node));
    return {
      target: snap.target,
      nodes: listed,
      total: listed.reduce((sum, n) => sum + n.count, 0),
      partial: unavailable.size > 0,
      unavailable_nodes: [...unavailable].sort(),
    };
  }
}

const onlineNodes = (snap: InventoryResources): string[] =>
  snap.items.filter((n) => n.status === 'online').map((n) => String(n.node));

function requireNode(snap: InventoryResources, node: string): void {
  const names = snap.items.map((n) => String(n.node)).sort();
  if (!names.includes(node)) {
    throw new DomainError('NOT_FOUND', `Node '${node}' is not a member of cluster target '${snap.target}'`, {
      hint: `Nodes: ${names.join(', ')} (see get_nodes).`,
    });
  }
}
