import { Injectable } from '@nestjs/common';
import type { ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveTaskLogLine } from '../../proxmox/pve-types.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { asUnknownNode, upstreamSays } from '../guests/guest-state.js';
import { isoTime, nodeLocalTime, resolveWindow, type TimeWindow } from './log-time.js';
import {
  LOG_LIMIT_DEFAULT,
  LOG_TEXT_CAP_BYTES,
  type ClusterLogDto,
  type ClusterLogQueryDto,
  type GuestFirewallLogPageDto,
  type GuestFirewallLogQueryDto,
  type LogPageQueryDto,
  type LogPageDto,
  type SyslogPageDto,
  type SyslogQueryDto,
} from './dto/logs.dto.js';
import {
  clusterLogLine,
  firewallLineTime,
  toClusterLogEntry,
  toLogPage,
  type PveClusterLogEntry,
} from './logs.mapper.js';

/** GET /nodes/{node}/time. */
interface PveNodeTime {
  timezone?: string;
  time?: number | string;
  localtime?: number | string;
}

/**
 * The node journal, the node firewall log and the cluster log: paged by PVE itself (start/limit; the cluster log
 * only by `max`), time-bounded, and capped in size here so one call cannot flood a model's context.
 */
@Injectable()
export class LogsService {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async syslog(node: string, q: SyslogQueryDto): Promise<SyslogPageDto> {
    const window = resolveWindow(q.since, q.until);
    const start = q.start ?? 0;
    const client = this.gateway.client(q.target);
    return this.onNode(node, async () => {
      // journalctl reads since/until as the node's wall-clock time, so the node's zone decides what to send
      const clock =
        window.since !== undefined || window.until !== undefined
          ? await this.nodeClock(node, q.target)
          : undefined;
      const local = (epoch?: number) =>
        epoch === undefined || !clock ? undefined : nodeLocalTime(epoch, clock.timezone, clock.offset);
      const page = await client.getWithTotal<PveTaskLogLine[]>(pvePath`/nodes/${node}/syslog`, {
        start,
        limit: q.limit ?? LOG_LIMIT_DEFAULT,
        ...(window.since !== undefined ? { since: local(window.since) } : {}),
        ...(window.until !== undefined ? { until: local(window.until) } : {}),
        ...(q.service ? { service: q.service } : {}),
      });
      return {
        ...this.pageHeader(node, start, window, q.target),
        ...toLogPage(page.data, page.total, start),
        ...(q.service ? { service: q.service } : {}),
        ...(clock?.timezone ? { timezone: clock.timezone } : {}),
      };
    });
  }

  async firewallLog(node: string, q: LogPageQueryDto): Promise<LogPageDto> {
    const window = resolveWindow(q.since, q.until);
    const start = q.start ?? 0;
    return this.onNode(node, async () => {
      const client = this.gateway.client(q.target);
      const page = await this.firewallLogPage(
        client,
        pvePath`/nodes/${node}/firewall/log`,
        start,
        window,
        q.limit,
      );
      return { ...this.pageHeader(node, start, window, q.target), ...page };
    });
  }

  /**
   * One guest's lines of its node's firewall log (PVE keeps the lines pvefw-logger wrote for that vmid). The guest
   * is looked up first, so a vmid that is not a VM (or container) on that node is NOT_FOUND, not an empty log.
   */
  async guestFirewallLog(
    node: string,
    vmid: number,
    q: GuestFirewallLogQueryDto,
  ): Promise<GuestFirewallLogPageDto> {
    const window = resolveWindow(q.since, q.until);
    const start = q.start ?? 0;
    const type = q.vm_type ?? 'qemu';
    const client = this.gateway.client(q.target);
    const base = type === 'qemu' ? pvePath`/nodes/${node}/qemu/${vmid}` : pvePath`/nodes/${node}/lxc/${vmid}`;
    try {
      await client.get(`${base}/config`);
    } catch (error) {
      if (upstreamSays(error, /Configuration file .* does not exist/)) {
        const what = type === 'qemu' ? 'VM' : 'Container';
        const other = type === 'qemu' ? 'lxc' : 'qemu';
        throw new DomainError('NOT_FOUND', `${what} ${vmid} not found on node ${node}`, {
          hint: `get_vms and get_containers list the guests with their nodes; for a ${other === 'lxc' ? 'container' : 'VM'} pass vm_type: ${other}.`,
        });
      }
      throw asUnknownNode(error, node);
    }
    const page = await this.firewallLogPage(client, `${base}/firewall/log`, start, window, q.limit);
    return {
      ...this.pageHeader(node, start, window, q.target),
      vmid,
      vm_type: type,
      ...page,
    };
  }

  /** One page of a node's or a guest's firewall log. */
  private async firewallLogPage(
    client: ProxmoxClient,
    path: string,
    start: number,
    window: TimeWindow,
    limit: number | undefined,
  ) {
    const page = await client.getWithTotal<PveTaskLogLine[]>(path, {
      start,
      limit: limit ?? LOG_LIMIT_DEFAULT,
      // the firewall log takes epoch seconds (and treats 0 as "not given", which matches 1970 anyway)
      ...(window.since !== undefined ? { since: window.since } : {}),
      ...(window.until !== undefined ? { until: window.until } : {}),
    });
    return toLogPage(page.data, page.total, start, firewallLineTime);
  }

  async clusterLog(q: ClusterLogQueryDto): Promise<ClusterLogDto> {
    const max = q.max ?? LOG_LIMIT_DEFAULT;
    const raw = await this.gateway.client(q.target).get<PveClusterLogEntry[]>('/cluster/log', { max });
    const entries = (Array.isArray(raw) ? raw : [])
      .map(toClusterLogEntry)
      // pmxcfs answers newest first already; sorting keeps that promise whatever the upstream does
      .sort((a, b) => b.time.localeCompare(a.time) || b.uid - a.uid)
      .slice(0, max);
    let bytes = 0;
    const kept = entries.filter(
      (e) => (bytes += Buffer.byteLength(clusterLogLine(e)) + 1) <= LOG_TEXT_CAP_BYTES,
    );
    return {
      target: this.gateway.targetConfig(q.target).name,
      entries: kept,
      max,
      truncated: kept.length < entries.length,
    };
  }

  private pageHeader(node: string, start: number, window: TimeWindow, target?: string) {
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      start,
      ...(window.since !== undefined ? { since: isoTime(window.since) } : {}),
      ...(window.until !== undefined ? { until: isoTime(window.until) } : {}),
    };
  }

  private async nodeClock(node: string, target?: string): Promise<{ timezone?: string; offset: number }> {
    const t = await this.gateway.client(target).get<PveNodeTime>(pvePath`/nodes/${node}/time`);
    const offset = Number(t?.localtime) - Number(t?.time);
    return {
      ...(typeof t?.timezone === 'string' && t.timezone ? { timezone: t.timezone } : {}),
      offset: Number.isFinite(offset) ? offset : 0,
    };
  }

  /** A node name that is not a cluster member reads as NOT_FOUND naming it, not as PVE's DNS error. */
  private async onNode<T>(node: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asUnknownNode(error, node);
    }
  }
}
