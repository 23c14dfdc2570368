import { formatUptime, partialNote, usageLine } from '../../common/format/human.js';
import type { ClusterStatusDto, NodeListDto, NodeStatusDto, TargetListDto } from './dto/cluster.dto.js';

export const nodesText = (r: NodeListDto): string =>
  [
    '[node] Proxmox Nodes',
    ...r.nodes.flatMap((n) => [
      '',
      `[node] ${n.node}`,
      `  - Status: ${n.status.toUpperCase()}`,
      `  - Uptime: ${formatUptime(n.uptime_seconds)}`,
      `  - CPU Cores: ${n.cpu_cores ?? 'N/A'}`,
      `  - Memory: ${usageLine(n.memory.used_bytes, n.memory.total_bytes)}`,
    ]),
  ].join('\n') + partialNote(r.unavailable_nodes);

export const nodeStatusText = (s: NodeStatusDto): string =>
  [
    `[node] Node: ${s.node}`,
    `  - Status: ${s.status.toUpperCase()}`,
    `  - Uptime: ${formatUptime(s.uptime_seconds)}`,
    `  - CPU Cores: ${s.cpu_cores ?? 'N/A'}${s.cpu_model ? ` (${s.cpu_model})` : ''}`,
    `  - CPU Usage: ${s.cpu_percent.toFixed(1)}%`,
    `  - Memory: ${usageLine(s.memory.used_bytes, s.memory.total_bytes)}`,
    ...(s.rootfs ? [`  - Disk: ${usageLine(s.rootfs.used_bytes, s.rootfs.total_bytes)}`] : []),
    ...(s.pve_version ? [`  - Version: ${s.pve_version}`] : []),
    ...(s.warning ? [``, `Partial result: ${s.warning}`] : []),
  ].join('\n');

export const clusterStatusText = (c: ClusterStatusDto): string =>
  [
    '[config] Proxmox Cluster',
    '',
    `  - Name: ${c.cluster_name ?? `${c.nodes[0]?.name ?? 'unknown'} (standalone node)`}`,
    `  - Quorum: ${c.standalone ? 'n/a (standalone node, no cluster)' : c.quorum}`,
    `  - Nodes: ${c.nodes_total} (${c.nodes_online} online)`,
  ].join('\n');

export const targetsText = (t: TargetListDto): string =>
  [
    'Proxmox targets',
    ...t.targets.map(
      (x) =>
        `  - ${x.name}: ${x.host}:${x.port} ${x.reachable ? `reachable (${x.pve_version ? `PVE ${x.pve_version}` : 'PVE version unknown'})` : `UNREACHABLE (${x.error ?? 'unknown error'})`}${x.read_only ? ', read-only' : ''}`,
    ),
  ].join('\n');
