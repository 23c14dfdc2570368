import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { upstreamSays } from '../guests/guest-state.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import type { Cf, MetricsHistoryDto, MetricsQueryDto, Timeframe } from './dto/metrics-history.dto.js';
import {
  GUEST_METRICS,
  NODE_METRICS,
  STORAGE_METRICS,
  toMetrics,
  type PveRrdRow,
} from './metrics-history.mapper.js';

/** Seconds per point of each timeframe (PVE's RRD archives, 70 points each). */
export const STEP_SECONDS: Record<Timeframe, number> = {
  hour: 60,
  day: 1800,
  week: 10800,
  month: 43200,
  year: 604800,
};

/** What the inventory says about where a guest lives. */
export interface GuestLocation {
  vmid: number;
  type: 'qemu' | 'lxc';
  node: string;
  name?: string;
  status?: string;
}

export const rrdQuery = (timeframe: Timeframe, cf: Cf) => ({ timeframe, cf });

/**
 * The refusal for a node that is not online: its storages' rrddata is proxied to it and fails, and the node's and
 * its guests' RRD (read from the cluster-wide cache) stopped at the outage, so a summary of it would mislead.
 */
export function offlineNode(node: string, what: string): DomainError {
  return new DomainError('CONFLICT', `Node ${node} is offline: ${what} is not available`, {
    hint: 'Read the history once the node is back online (get_nodes shows its status).',
    details: { node },
  });
}

/**
 * get_node_metrics, get_guest_metrics and get_storage_metrics: PVE's RRD history (GET …/rrddata) as one value list
 * per metric plus a summary each. The inventory (one cached /cluster/resources read) checks first that the node,
 * guest or storage exists and that its node is online, so a refusal costs no rrddata request.
 */
@Injectable()
export class MetricsHistoryService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
  ) {}

  async node(node: string, q: MetricsQueryDto): Promise<MetricsHistoryDto> {
    const nodes = await this.inventory.clusterResources('node', q.target);
    const row = nodes.items.find((n) => n.node === node);
    if (!row) throw unknownNode(node, nodes.items);
    if (row.status !== 'online') throw offlineNode(node, 'its history');
    const { timeframe, cf } = options(q);
    const rows = await this.read(
      q.target,
      pvePath`/nodes/${node}/rrddata`,
      rrdQuery(timeframe, cf),
      `node ${node}`,
    );
    return { target: nodes.target, node, ...history(rows, NODE_METRICS, q) };
  }

  async guest(vmid: number, q: MetricsQueryDto): Promise<MetricsHistoryDto> {
    const { target, guest } = await this.locateGuest(vmid, q.target);
    const { timeframe, cf } = options(q);
    const rows = await this.read(
      q.target,
      pvePath`/nodes/${guest.node}/${guest.type}/${vmid}/rrddata`,
      rrdQuery(timeframe, cf),
      `${guest.type === 'qemu' ? 'VM' : 'CT'} ${vmid}`,
    );
    return {
      target,
      node: guest.node,
      vmid,
      type: guest.type,
      ...(guest.name !== undefined ? { name: guest.name } : {}),
      ...(guest.status !== undefined ? { status: guest.status } : {}),
      ...history(rows, GUEST_METRICS, q),
    };
  }

  async storage(node: string, storage: string, q: MetricsQueryDto): Promise<MetricsHistoryDto> {
    // storage first: it reads (and caches) the whole inventory, which then also answers the node query
    const storages = await this.inventory.clusterResources('storage', q.target);
    const nodes = await this.inventory.clusterResources('node', q.target);
    const nodeRow = nodes.items.find((n) => n.node === node);
    if (!nodeRow) throw unknownNode(node, nodes.items);
    if (nodeRow.status !== 'online') throw offlineNode(node, `the history of storage '${storage}'`);
    const onNode = storages.items.filter((s) => s.node === node);
    if (!onNode.some((s) => s.storage === storage)) {
      const names = onNode.map((s) => String(s.storage)).sort();
      throw new DomainError('NOT_FOUND', `Storage '${storage}' is not on node ${node}`, {
        hint: `Storages on ${node}: ${names.join(', ') || 'none'} (get_storage lists them).`,
        details: { field: 'storage', storages: names },
      });
    }
    const { timeframe, cf } = options(q);
    const rows = await this.read(
      q.target,
      pvePath`/nodes/${node}/storage/${storage}/rrddata`,
      rrdQuery(timeframe, cf),
      `storage '${storage}' on ${node}`,
    );
    return { target: storages.target, node, storage, ...history(rows, STORAGE_METRICS, q) };
  }

  /** One rrddata read; PVE's "RRD error: opening '…': No such file" (no history recorded) becomes NOT_FOUND. */
  private async read(
    target: string | undefined,
    path: string,
    query: ReturnType<typeof rrdQuery>,
    what: string,
  ): Promise<PveRrdRow[]> {
    try {
      return await this.gateway.client(target).get<PveRrdRow[]>(path, query);
    } catch (error) {
      if (upstreamSays(error, /RRD error.*No such file/)) {
        throw new DomainError('NOT_FOUND', `Proxmox has no history for ${what}`, {
          hint: 'Proxmox records it only where the guest or storage is active; check get_storage or get_vms.',
        });
      }
      throw error;
    }
  }

  /** The guest's node and kind from the inventory; unknown guests and guests on offline nodes are refused. */
  async locateGuest(vmid: number, target?: string): Promise<{ target: string; guest: GuestLocation }> {
    const guests = await this.inventory.clusterResources('vm', target);
    const row = guests.items.find((g) => Number(g.vmid) === vmid);
    if (!row || (row.type !== 'qemu' && row.type !== 'lxc') || !row.node) {
      throw new DomainError('NOT_FOUND', `No VM or container with ID ${vmid} in the cluster`, {
        hint: 'get_vms and get_containers list the guests.',
        details: { field: 'vmid' },
      });
    }
    if (guests.unavailableNodes.includes(row.node)) {
      throw offlineNode(row.node, `the history of ${row.type === 'qemu' ? 'VM' : 'CT'} ${vmid}`);
    }
    return {
      target: guests.target,
      guest: {
        vmid,
        type: row.type,
        node: row.node,
        ...(row.name !== undefined ? { name: row.name } : {}),
        ...(row.status !== undefined ? { status: row.status } : {}),
      },
    };
  }
}

export function unknownNode(node: string, nodes: readonly PveClusterResource[]): DomainError {
  const names = nodes.map((n) => String(n.node)).sort();
  return new DomainError('NOT_FOUND', `Node '${node}' is not part of the cluster`, {
    hint: `Nodes: ${names.join(', ')} (get_nodes lists them).`,
    details: { field: 'node', nodes: names },
  });
}

function options(q: MetricsQueryDto): { timeframe: Timeframe; cf: Cf } {
  return { timeframe: q.timeframe ?? 'hour', cf: q.cf ?? 'AVERAGE' };
}

type HistoryPart = Pick<
  MetricsHistoryDto,
  'timeframe' | 'cf' | 'step_seconds' | 'from' | 'to' | 'timestamps' | 'metrics'
>;

function history(
  rows: PveRrdRow[] | null,
  defs: Parameters<typeof toMetrics>[1],
  q: MetricsQueryDto,
): HistoryPart {
  const { timeframe, cf } = options(q);
  const includeSeries = q.include_series !== false;
  const { timestamps, metrics } = toMetrics(Array.isArray(rows) ? rows : [], defs, includeSeries);
  const step =
    timestamps.length >= 2
      ? timestamps[timestamps.length - 1] - timestamps[timestamps.length - 2]
      : STEP_SECONDS[timeframe];
  return {
    timeframe,
    cf,
    step_seconds: step,
    ...(timestamps.length ? { from: timestamps[0], to: timestamps[timestamps.length - 1] } : {}),
    ...(includeSeries ? { timestamps } : {}),
    metrics,
  };
}
