import { num, percent } from '../../common/format/human.js';
import type { PveClusterResource, PveClusterStatusItem, PveNodeStatus } from '../../proxmox/pve-types.js';
import type { ClusterStatusDto, NodeStatusDto, NodeSummaryDto } from './dto/cluster.dto.js';

const usage = (used: unknown, total: unknown) => ({
  used_bytes: num(used),
  total_bytes: num(total),
  used_percent: percent(num(used), num(total)),
});

const nodeStatus = (s: unknown): NodeSummaryDto['status'] =>
  s === 'online' ? 'online' : s === 'offline' ? 'offline' : 'unknown';

export function toNodeSummary(r: PveClusterResource): NodeSummaryDto {
  return {
    node: String(r.node),
    status: nodeStatus(r.status),
    uptime_seconds: num(r.uptime),
    ...(r.maxcpu !== undefined ? { cpu_cores: num(r.maxcpu) } : {}),
    cpu_percent: Math.round(num(r.cpu) * 1000) / 10,
    memory: usage(r.mem, r.maxmem),
    disk: usage(r.disk, r.maxdisk),
  };
}

export function toNodeStatus(target: string, node: string, s: PveNodeStatus): NodeStatusDto {
  return {
    target,
    node,
    status: 'online', // a node that answers its own status call is up
    uptime_seconds: num(s.uptime),
    ...(s.cpuinfo?.cpus !== undefined ? { cpu_cores: num(s.cpuinfo.cpus) } : {}),
    ...(s.cpuinfo?.sockets !== undefined ? { cpu_sockets: num(s.cpuinfo.sockets) } : {}),
    ...(s.cpuinfo?.model ? { cpu_model: String(s.cpuinfo.model) } : {}),
    cpu_percent: Math.round(num(s.cpu) * 1000) / 10,
    load_average: (s.loadavg ?? []).map(num),
    memory: usage(s.memory?.used, s.memory?.total),
    ...(s.swap ? { swap: usage(s.swap.used, s.swap.total) } : {}),
    ...(s.rootfs ? { rootfs: usage(s.rootfs.used, s.rootfs.total) } : {}),
    ...(s.pveversion ? { pve_version: String(s.pveversion) } : {}),
    ...(s.kversion ? { kernel: String(s.kversion) } : {}),
    partial: false,
  };
}

/** Offline fallback: the cluster's view of a node that did not answer (the reference's behaviour, flagged). */
export function toOfflineNodeStatus(target: string, r: PveClusterResource, warning: string): NodeStatusDto {
  const summary = toNodeSummary(r);
  return {
    target,
    node: summary.node,
    status: summary.status === 'online' ? 'unknown' : summary.status,
    uptime_seconds: summary.uptime_seconds,
    ...(summary.cpu_cores !== undefined ? { cpu_cores: summary.cpu_cores } : {}),
    cpu_percent: summary.cpu_percent,
    load_average: [],
    memory: summary.memory,
    partial: true,
    warning,
  };
}

/** A standalone node has no `cluster` entry: that is not a lost quorum (reference bug §9 #9). */
export function toClusterStatus(target: string, items: PveClusterStatusItem[]): ClusterStatusDto {
  const cluster = items.find((i) => i.type === 'cluster');
  const nodes = items
    .filter((i) => i.type === 'node')
    .map((n) => ({
      name: String(n.name),
      online: num(n.online) === 1,
      local: num(n.local) === 1,
      ...(n.nodeid !== undefined ? { nodeid: num(n.nodeid) } : {}),
      ...(n.ip ? { ip: String(n.ip) } : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const quorate = cluster ? num(cluster.quorate) === 1 : undefined;
  return {
    target,
    standalone: !cluster,
    ...(cluster?.name ? { cluster_name: String(cluster.name) } : {}),
    ...(quorate !== undefined ? { quorate } : {}),
    quorum: quorate === undefined ? 'n/a' : quorate ? 'OK' : 'NOT OK',
    nodes_total: nodes.length,
    nodes_online: nodes.filter((n) => n.online).length,
    ...(cluster?.version !== undefined ? { config_version: num(cluster.version) } : {}),
    nodes,
  };
}
