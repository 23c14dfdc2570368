import { formatUptime, NOT_AVAILABLE, partialNote, usageLine } from '../../common/format/human.js';
import type { ClusterStatusDto, NodeListDto, NodeStatusDto, TargetListDto } from './dto/cluster.dto.js';
import type { PoolChangeDto, PoolDeletedDto, PoolDto, PoolGuestDto, PoolListDto } from './dto/pools.dto.js';

export const nodesText = (r: NodeListDto): string =>
  [
    'Proxmox nodes',
    ...r.nodes.flatMap((n) => [
      '',
      `Node ${n.node}`,
      `  - Status: ${n.status.toUpperCase()}`,
      `  - Uptime: ${formatUptime(n.status === 'online' ? n.uptime_seconds : undefined)}`,
      `  - CPU Cores: ${n.cpu_cores ?? NOT_AVAILABLE}`,
      `  - Memory: ${usageLine(n.memory.used_bytes, n.memory.total_bytes)}`,
    ]),
  ].join('\n') + partialNote(r.unavailable_nodes);

export const nodeStatusText = (s: NodeStatusDto): string =>
  [
    `Node ${s.node}`,
    `  - Status: ${s.status.toUpperCase()}`,
    `  - Uptime: ${formatUptime(s.partial ? undefined : s.uptime_seconds)}`,
    `  - CPU Cores: ${s.cpu_cores ?? NOT_AVAILABLE}${s.cpu_model ? ` (${s.cpu_model})` : ''}`,
    `  - CPU Usage: ${s.partial ? NOT_AVAILABLE : `${s.cpu_percent.toFixed(1)}%`}`,
    `  - Memory: ${usageLine(s.memory.used_bytes, s.memory.total_bytes)}`,
    ...(s.rootfs ? [`  - Disk: ${usageLine(s.rootfs.used_bytes, s.rootfs.total_bytes)}`] : []),
    ...(s.pve_version ? [`  - Version: ${s.pve_version}`] : []),
    ...(s.warning ? [``, `Partial result: ${s.warning}`] : []),
  ].join('\n');

export const clusterStatusText = (c: ClusterStatusDto): string =>
  [
    'Proxmox cluster',
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

export const poolsText = (r: PoolListDto): string =>
  (r.pools.length === 0
    ? 'No resource pools.'
    : [
        'Resource pools',
        ...r.pools.flatMap((p) => ['', poolHeadline(p), ...p.guests.map(poolGuestLine)]),
      ].join('\n')) + partialNote(r.unavailable_nodes);

const poolHeadline = (p: PoolDto): string =>
  `${p.poolid}${p.comment ? ` (${p.comment})` : ''}: ${p.guests.length} guest(s)` +
  (p.storages.length ? `, storages: ${p.storages.join(', ')}` : '');

const poolGuestLine = (g: PoolGuestDto): string =>
  `  - ${g.vmid}${g.name ? ` ${g.name}` : ''} (${g.type}, ${g.node}, ${g.status})`;

/** create_pool and update_pool: what changed, then the pool as it is now. */
export const poolChangeText = (r: PoolChangeDto): string =>
  [...r.changes, '', poolHeadline(r.pool), ...r.pool.guests.map(poolGuestLine)].join('\n');

export const poolDeletedText = (r: PoolDeletedDto): string =>
  `Deleted resource pool '${r.poolid}' on target '${r.target}'.`;
