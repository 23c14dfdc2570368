import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import {
  TOP_LIMIT_DEFAULT,
  type TopBy,
  type TopGuestDto,
  type TopGuestsDto,
  type TopGuestsQueryDto,
} from './dto/metrics-history.dto.js';
import { field, roundTo, summarize, type PveRrdRow } from './metrics-history.mapper.js';
import { offlineNode, rrdQuery, unknownNode } from './metrics-history.service.js';

/** rrddata reads in flight at once: enough to hide latency, few enough not to load pveproxy. */
export const RRD_CONCURRENCY = 8;

/** How many candidates get their history read: the limit plus as many again (at least 10) as a margin. */
export const historyReads = (limit: number): number => limit + Math.max(limit, 10);

const UNIT: Record<TopBy, string> = { cpu: 'cores', memory: 'bytes', disk_io: 'bytes/s', net_io: 'bytes/s' };
const DIGITS: Record<TopBy, number> = { cpu: 3, memory: 0, disk_io: 1, net_io: 1 };

const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
};

/**
 * The value a guest is ranked by, from a /cluster/resources row: cores and bytes in use now; for disk and network
 * the mean rate since it started (PVE's byte counters over its uptime), as /cluster/resources has no rates.
 */
export function currentValue(by: TopBy, r: PveClusterResource): number {
  const uptime = num(r.uptime);
  switch (by) {
    case 'cpu':
      return num(r.cpu) * num(r.maxcpu);
    case 'memory':
      return num(r.mem);
    case 'disk_io':
      return uptime > 0 ? (num(r.diskread) + num(r.diskwrite)) / uptime : 0;
    case 'net_io':
      return uptime > 0 ? (num(r.netin) + num(r.netout)) / uptime : 0;
  }
}

/** The same value from one rrddata row (cpu is a share of the guest's CPUs there too). */
export function rowValue(by: TopBy, row: PveRrdRow): number | undefined {
  const sum = (a: string, b: string) => {
    const x = field(row, a);
    const y = field(row, b);
    return x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0);
  };
  switch (by) {
    case 'cpu': {
      const cpu = field(row, 'cpu');
      const maxcpu = field(row, 'maxcpu');
      return cpu === undefined || maxcpu === undefined ? undefined : cpu * maxcpu;
    }
    case 'memory':
      return field(row, 'mem');
    case 'disk_io':
      return sum('diskread', 'diskwrite');
    case 'net_io':
      return sum('netin', 'netout');
  }
}

/** cpu: percent of the guest's own CPUs; memory: percent of its memory (means over the window). */
function percentOf(by: TopBy, rows: PveRrdRow[]): number | null {
  const read =
    by === 'cpu'
      ? (r: PveRrdRow) => field(r, 'cpu')
      : by === 'memory'
        ? (r: PveRrdRow) => {
            const mem = field(r, 'mem');
            const max = field(r, 'maxmem');
            return mem === undefined || !max ? undefined : mem / max;
          }
        : undefined;
  if (!read) return null;
  const values = rows.map(read).filter((v): v is number => v !== undefined);
  return values.length ? roundTo((values.reduce((a, b) => a + b, 0) / values.length) * 100, 2) : null;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the order of `items`. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * get_top_guests: the guests using most CPU, memory, disk or network over a timeframe, cluster-wide, without one
 * request per guest. One /cluster/resources read ranks every running guest by its current value; only the top
 * candidates (limit + max(limit, 10)) have their rrddata read, at most RRD_CONCURRENCY at once, and are ranked
 * again by their mean over the timeframe.
 */
@Injectable()
export class TopGuestsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
  ) {}

  async top(q: TopGuestsQueryDto): Promise<TopGuestsDto> {
    const by = q.by;
    const timeframe = q.timeframe ?? 'hour';
    const limit = q.limit ?? TOP_LIMIT_DEFAULT;
    const guests = await this.inventory.clusterResources('vm', q.target);
    let extraReads = 0;
    if (q.node !== undefined) {
      if (guests.unavailableNodes.includes(q.node)) throw offlineNode(q.node, 'the history of its guests');
      if (!guests.items.some((g) => g.node === q.node)) {
        // no guest names the node: unknown, or a node without guests (the node list tells which)
        const nodes = await this.inventory.clusterResources('node', q.target);
        extraReads = 1;
        const row = nodes.items.find((n) => n.node === q.node);
        if (!row) throw unknownNode(q.node, nodes.items);
        if (row.status !== 'online') throw offlineNode(q.node, 'the history of its guests');
      }
    }
    const candidates = guests.items
      .filter(
        (g) =>
          g.status === 'running' &&
          !num(g.template) &&
          (g.type === 'qemu' || g.type === 'lxc') &&
          (q.type === undefined || g.type === q.type) &&
          (q.node === undefined || g.node === q.node),
      )
      .map((g) => ({ row: g, current: currentValue(by, g) }))
      .sort((a, b) => b.current - a.current || num(a.row.vmid) - num(b.row.vmid));
    const chosen = candidates.slice(0, historyReads(limit));
    const client = this.gateway.client(q.target);
    const histories = await mapLimit(chosen, RRD_CONCURRENCY, async ({ row }) => {
      const path = pvePath`/nodes/${String(row.node)}/${String(row.type)}/${num(row.vmid)}/rrddata`;
      return client.get<PveRrdRow[]>(path, rrdQuery(timeframe, 'AVERAGE')).then(
        (rows) => (Array.isArray(rows) ? rows : []),
        (error: unknown) => {
          // a guest deleted or moved since the inventory read: left out rather than failing the whole ranking
          if (error instanceof DomainError && error.code === 'UPSTREAM_NOT_FOUND') return null;
          throw error;
        },
      );
    });
    const digits = DIGITS[by];
    const ranked: Array<Omit<TopGuestDto, 'rank'> & { exact: number }> = [];
    chosen.forEach(({ row, current }, i) => {
      const rows = histories[i];
      if (!rows) return;
      const times = rows.map((r) => field(r, 'time') ?? 0);
      const s = summarize(
        times,
        rows.map((r) => rowValue(by, r)),
      );
      ranked.push({
        vmid: num(row.vmid),
        type: row.type as 'qemu' | 'lxc',
        ...(row.name !== undefined ? { name: String(row.name) } : {}),
        node: String(row.node),
        exact: s.avg ?? current,
        value: roundTo(s.avg ?? current, digits),
        peak: s.max === null ? null : roundTo(s.max, digits),
        percent: percentOf(by, rows),
        trend: s.trend,
        current: roundTo(current, digits),
      });
    });
    // by the unrounded means, so two guests that round alike keep their true order
    ranked.sort((a, b) => b.exact - a.exact || a.vmid - b.vmid);
    return {
      target: guests.target,
      partial: guests.unavailableNodes.length > 0,
      unavailable_nodes: guests.unavailableNodes,
      ...(guests.unavailableNodes.length
        ? { warning: `Guests on ${guests.unavailableNodes.join(', ')} are not ranked: the node is offline.` }
        : {}),
      by,
      timeframe,
      unit: UNIT[by],
      guests: ranked.slice(0, limit).map(({ exact: _exact, ...g }, i) => ({ rank: i + 1, ...g })),
      candidates: candidates.length,
      history_read: chosen.length,
      upstream_requests: 1 + extraReads + chosen.length,
      method:
        `Ranked ${candidates.length} running guests by their current /cluster/resources value, read the ` +
        `${timeframe} history of the top ${chosen.length} (limit + max(limit, 10); at most ${RRD_CONCURRENCY} ` +
        `requests at once) and ranked those by their mean over the ${timeframe}.`,
    };
  }
}
