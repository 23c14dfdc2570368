import { formatBytes, partialNote } from '../../common/format/human.js';
import type { VolumeLocationDto } from '../guests/dto/storage-content.dto.js';
import type { IsoListDto, TemplateListDto } from './dto/isos.dto.js';

/** The reference's "Available ISO Images" text, with shared storage shown once. */
function mediaText(
  title: string,
  empty: string,
  items: VolumeLocationDto[],
  r: IsoListDto | TemplateListDto,
): string {
  if (!items.length) return `${empty}${partialNote(r.unavailable_nodes)}`;
  const lines = [title, ''];
  for (const item of items) {
    lines.push(
      item.name,
      `     Size: ${formatBytes(item.size_bytes)}`,
      `     Storage: ${item.storage} @ ${item.shared ? 'all nodes (shared)' : item.node}`,
      `     Volume ID: ${item.volid}`,
    );
  }
  if (r.truncated)
    lines.push('', `Showing ${items.length} of ${r.total}; narrow with node/storage or raise limit.`);
  for (const f of r.failed) lines.push('', `Could not read ${f.storage} on ${f.node}: ${f.error}`);
  return lines.join('\n') + partialNote(r.unavailable_nodes);
}

export const isoListText = (r: IsoListDto): string =>
  mediaText('Available ISO Images', 'No ISO images found', r.isos, r);

export const templateListText = (r: TemplateListDto): string =>
  mediaText('Available OS Templates', 'No OS templates found', r.templates, r) +
  (r.templates.length ? "\n\nUse the Volume ID with create_container's ostemplate parameter." : '');
