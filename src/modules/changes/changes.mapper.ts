import type { ChangeEntity } from '../../audit/changes/change.entity.js';
import type { ObjectValues } from '../../audit/changes/revertable.js';
import type { ChangeDto } from './dto/changes.dto.js';

const pick = (values: ObjectValues, fields: readonly string[]): ObjectValues =>
  Object.fromEntries(fields.filter((f) => f in values).map((f) => [f, values[f]]));

export function toChange(row: ChangeEntity): ChangeDto {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    ...(row.tool ? { tool: row.tool } : {}),
    ...(row.actor ? { actor: row.actor } : {}),
    target: row.target,
    kind: row.kind,
    path: row.path,
    ...(row.node ? { node: row.node } : {}),
    ...(row.vmid !== null ? { vmid: row.vmid } : {}),
    fields: row.fields,
    before: pick(row.before, row.fields),
    after: pick(row.after, row.fields),
    ...(row.revertOf !== null ? { revert_of: row.revertOf } : {}),
    ...(row.revertedBy !== null ? { reverted_by: row.revertedBy } : {}),
  };
}
