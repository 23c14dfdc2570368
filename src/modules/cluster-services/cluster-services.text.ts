import { formatBytes, partialNote } from '../../common/format/human.js';
import type {
  CephStatusDto,
  NodeUpdatesListDto,
  ReplicationStatusDto,
  SdnVnetListDto,
  SdnZoneListDto,
} from './dto/cluster-services.dto.js';

export const replicationText = (r: ReplicationStatusDto): string => {
  const s = r.summary;
  const head = `Replication jobs: ${s.total} (${s.ok} ok, ${s.failing} failing, ${s.syncing} syncing, ${s.disabled} disabled, ${s.unknown} unknown)`;
  const lines = r.jobs.map(
    (j) =>
      `  - ${j.id}: ${j.source_node ?? '?'} → ${j.target_node} every ${j.schedule} [${j.state}]` +
      `${j.last_sync ? ` last sync ${j.last_sync}` : ' never synced'}` +
      `${j.next_sync ? `, next ${j.next_sync}` : ''}` +
      `${j.fail_count > 0 ? `, ${j.fail_count} failure(s)` : ''}${j.error ? `: ${j.error}` : ''}`,
  );
  return [head, ...lines].join('\n') + partialNote(r.unavailable_nodes);
};

export const cephText = (r: CephStatusDto): string => {
  if (!r.configured) return `${r.message ?? 'Ceph is not configured'} (target ${r.target}).`;
  const lines = [`Ceph health: ${r.health}`];
  for (const c of r.checks)
    lines.push(`  - ${c.severity} ${c.code}: ${c.message}${c.muted ? ' (muted)' : ''}`);
  if (r.monitors)
    lines.push(
      `Monitors: ${r.monitors.quorum.length}/${r.monitors.total} in quorum (${r.monitors.quorum.join(', ')})`,
    );
  if (r.osds) lines.push(`OSDs: ${r.osds.total} total, ${r.osds.up} up, ${r.osds.in} in`);
  if (r.pgs)
    lines.push(`PGs: ${r.pgs.total} (${r.pgs.by_state.map((p) => `${p.count} ${p.state}`).join(', ')})`);
  if (r.usage)
    lines.push(
      `Usage: ${formatBytes(r.usage.used_bytes)} / ${formatBytes(r.usage.total_bytes)} (${r.usage.used_percent}%)`,
    );
  return lines.join('\n');
};

const pendingMark = (state: string): string => (state === 'applied' ? '' : ` [${state}, not applied]`);

export const sdnZonesText = (r: SdnZoneListDto): string =>
  r.zones.length === 0
    ? 'No SDN zones.'
    : [
        `SDN zones: ${r.zones.length}`,
        ...r.zones.map(
          (z) =>
            `  - ${z.zone} (${z.type})${z.bridge ? ` bridge ${z.bridge}` : ''}${z.mtu ? ` mtu ${z.mtu}` : ''}` +
            `${z.peers.length ? ` peers ${z.peers.join(',')}` : ''}${z.nodes.length ? ` nodes ${z.nodes.join(',')}` : ''}${pendingMark(z.state)}`,
        ),
      ].join('\n');

export const sdnVnetsText = (r: SdnVnetListDto): string =>
  r.vnets.length === 0
    ? 'No SDN VNets.'
    : [
        `SDN VNets: ${r.vnets.length}`,
        ...r.vnets.map(
          (v) =>
            `  - ${v.vnet} in zone ${v.zone ?? '?'}${v.tag !== undefined ? ` tag ${v.tag}` : ''}${v.alias ? ` (${v.alias})` : ''}` +
            `${v.vlan_aware ? ' vlan-aware' : ''}${pendingMark(v.state)}`,
        ),
      ].join('\n');

export const nodeUpdatesText = (r: NodeUpdatesListDto): string =>
  [
    `Pending package updates: ${r.total} on ${r.nodes.length} node(s)`,
    ...r.nodes.flatMap((n) => [
      `Node ${n.node}: ${n.count === 0 ? 'up to date' : `${n.count} update(s)`}`,
      ...n.packages.map(
        (p) => `  - ${p.package} ${p.current_version ?? '(new)'} → ${p.new_version} (${p.origin})`,
      ),
    ]),
  ].join('\n') + partialNote(r.unavailable_nodes);
