import { formatBytes, partialNote } from '../../common/format/human.js';
import type { BackupListDto } from './dto/backups.dto.js';

/** The reference's "Available Backups" text, newest first. */
export function backupListText(r: BackupListDto): string {
  if (!r.backups.length) return `No backups found${partialNote(r.unavailable_nodes)}`;
  const lines = ['Available Backups', ''];
  for (const b of r.backups) {
    lines.push(
      `${b.guest_type === 'lxc' ? 'CT' : b.guest_type === 'qemu' ? 'VM' : 'VM/CT'} ${b.vmid} - ${b.created_at ?? 'N/A'}`,
      `      Size: ${formatBytes(b.size_bytes)}`,
      `      Format: ${b.format}`,
      `      Storage: ${b.storage} @ ${b.shared ? 'all nodes (shared)' : b.node}`,
      `      Volume ID: ${b.volid}`,
    );
    if (b.notes) lines.push(`      Notes: ${b.notes}`);
    if (b.protected) lines.push('      Protected');
  }
  if (r.truncated)
    lines.push(
      '',
      `Showing ${r.backups.length} of ${r.total}; narrow with node/storage/vmid or raise limit.`,
    );
  for (const f of r.failed) lines.push('', `Could not read ${f.storage} on ${f.node}: ${f.error}`);
  lines.push('', 'Use the Volume ID with restore_backup (archive) or delete_backup (volid).');
  return lines.join('\n') + partialNote(r.unavailable_nodes);
}
