import type { ChangeListDto, RevertResultDto } from './dto/changes.dto.js';

const show = (v: string | number | undefined) => (v === undefined ? '(unset)' : String(v));

export function changesText(list: ChangeListDto): string {
  if (list.changes.length === 0) return 'No recorded changes match.';
  const lines = list.changes.map((c) => {
    const fields = c.fields.map((f) => `${f}: ${show(c.before[f])} -> ${show(c.after[f])}`).join('; ');
    const state = c.reverted_by
      ? ` [reverted by #${c.reverted_by}]`
      : c.revert_of
        ? ` [revert of #${c.revert_of}]`
        : '';
    return `#${c.id} ${c.at} ${c.tool ?? '-'} by ${c.actor ?? '-'} ${c.kind} ${c.path}${state}: ${fields || 'no field changed'}`;
  });
  return [`${list.changes.length} of ${list.total} change(s), newest first:`, ...lines].join('\n');
}

export function revertText(r: RevertResultDto): string {
  const fields = r.fields.map((f) => `${f}=${show(r.restored[f])}`).join(', ');
  const skipped =
    r.skipped_fields.length > 0 ? ` Not put back (secrets): ${r.skipped_fields.join(', ')}.` : '';
  return (
    `Change #${r.reverted_change_id} reverted on ${r.kind} ${r.path}: ${fields || 'nothing to set'}.${skipped}` +
    (r.change_id ? ` The revert is change #${r.change_id}.` : '')
  );
}
