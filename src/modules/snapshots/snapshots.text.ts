import type { SnapshotListDto } from './dto/snapshots.dto.js';

/** The reference's list layout (timestamps in UTC here, not the server's local time). */
export function snapshotListText(r: SnapshotListDto): string {
  const type = r.vm_type.toUpperCase();
  if (!r.snapshots.length) return `No snapshots found for ${type} ${r.vmid} on node ${r.node}`;
  const lines = [`Snapshots for ${type} ${r.vmid} on ${r.node}`];
  for (const s of r.snapshots) {
    lines.push('', `  ${s.name}${r.current_parent === s.name ? '  (current state derives from it)' : ''}`);
    if (s.description) lines.push(`     Description: ${s.description}`);
    if (s.created_at)
      lines.push(`     Created: ${s.created_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`);
    if (s.parent) lines.push(`     Parent: ${s.parent}`);
    if (s.children.length) lines.push(`     Children: ${s.children.join(', ')}`);
    if (s.vmstate) lines.push('     RAM State: Included');
  }
  return lines.join('\n');
}
