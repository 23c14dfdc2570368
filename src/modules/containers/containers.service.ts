import { Injectable } from '@nestjs/common';
import type { GuestConfigDto } from '../guests/dto/guest.dto.js';
import { GuestConfigService } from '../guests/guest-config.service.js';
import { num, percent } from '../../common/format/human.js';
import { pageGuests, toGuestSummary } from '../guests/guest.mapper.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveLxcInterface } from '../../proxmox/pve-types.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type {
  ContainerDto,
  ContainerIpDto,
  ContainerListDto,
  GetContainersQueryDto,
} from './dto/containers.dto.js';

const STATS_CONCURRENCY = 8;

@Injectable()
export class ContainersService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
    private readonly configs: GuestConfigService,
  ) {}

  async getContainers(query: GetContainersQueryDto): Promise<ContainerListDto> {
    const q = { ...query, ...(query.payload ?? {}) };
    const snap = await this.resources.clusterResources('vm', q.target);
    const { page, total, truncated } = pageGuests(
      snap.items.filter((r) => r.type === 'lxc').map((r): ContainerDto => toGuestSummary(r)),
      q,
    );
    const containers = q.include_stats ? await this.withStats(page, q.target, !!q.include_raw) : page;
    return {
      target: snap.target,
      containers,
      total,
      truncated,
      format_style: q.format_style ?? 'pretty',
      partial: snap.unavailableNodes.length > 0,
      unavailable_nodes: snap.unavailableNodes,
    };
  }

  getContainerConfig(node: string, vmid: number, target?: string): Promise<GuestConfigDto> {
    return this.configs.get('lxc', node, vmid, target);
  }

  async getContainerIp(node: string, vmid: number, target?: string): Promise<ContainerIpDto> {
    const client = this.gateway.client(target);
    const [interfaces, config] = await Promise.all([
      client.get<PveLxcInterface[] | null>(pvePath`/nodes/${node}/lxc/${vmid}/interfaces`),
      this.configs.get('lxc', node, vmid, target),
    ]);
    const list = (interfaces ?? [])
      .filter((i) => i.name !== 'lo')
      .map((i) => ({
        name: String(i.name),
        ...(i.inet ? { inet: String(i.inet) } : {}),
        ...(i.inet6 ? { inet6: String(i.inet6) } : {}),
        ...(i.hwaddr ? { hwaddr: String(i.hwaddr) } : {}),
      }));
    const primary = list.find((i) => i.inet)?.inet?.split('/')[0];
    return {
      target: config.target,
      node,
      vmid,
      name: String(config.config.hostname ?? `CT-${vmid}`),
      interfaces: list,
      ...(primary ? { primary_ip: primary } : {}),
    };
  }

  /** Live figures per container, a few at a time so a big node is not flooded. */
  private async withStats(
    rows: ContainerDto[],
    target: string | undefined,
    raw: boolean,
  ): Promise<ContainerDto[]> {
    const client = this.gateway.client(target);
    const out: ContainerDto[] = [];
    for (let i = 0; i < rows.length; i += STATS_CONCURRENCY) {
      const batch = rows.slice(i, i + STATS_CONCURRENCY).map(async (row) => {
        try {
          const [status, config] = await Promise.all([
            client.get<Record<string, unknown>>(pvePath`/nodes/${row.node}/lxc/${row.vmid}/status/current`),
            client.get<Record<string, unknown>>(pvePath`/nodes/${row.node}/lxc/${row.vmid}/config`),
          ]);
          const mem = row.status === 'running' ? num(status.mem) : 0;
          const maxmem = num(status.maxmem) || num(config.memory) * 1024 * 1024;
          return {
            ...row,
            cpus: num(config.cores) || num(config.cpulimit) || row.cpus,
            cpu_percent: Math.round(num(status.cpu) * 1000) / 10,
            memory: { used_bytes: mem, total_bytes: maxmem, used_percent: percent(mem, maxmem) },
            unlimited_memory: num(config.memory) === 0 && num(config.swap) === 0,
            ...(raw ? { raw_status: status, raw_config: config } : {}),
          };
        } catch {
          return row; // one unreachable container keeps its inventory figures
        }
      });
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }
}
