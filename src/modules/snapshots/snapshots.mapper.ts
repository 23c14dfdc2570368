import { num } from '../../common/format/human.js';
import type { SnapshotDto, SnapshotListDto } from './dto/snapshots.dto.js';

/** One entry of GET …/snapshot; `current` is PVE's pseudo-entry for the present state. */
export interface PveSnapshot {
  name: string;
  description?: string;
  snaptime?: number;
  vmstate?: number | boolean;
  parent?: string;
}

/** Real snapshots oldest first, each with its children, and what the current state derives from. */
export function toSnapshotList(rows: PveSnapshot[]): Pick<SnapshotListDto, 'snapshots' | 'current_parent'> {
  const current = rows.find((r) => r.name === 'current');
  const real = rows.filter((r) => r.name !== 'current').sort((a, b) => num(a.snaptime) - num(b.snaptime));
  const snapshots: SnapshotDto[] = real.map((r) => ({
    name: r.name,
    description: (r.description ?? '').trim(),
    ...(num(r.snaptime) > 0 ? { created_at: new Date(num(r.snaptime) * 1000).toISOString() } : {}),
    ...(r.parent ? { parent: r.parent } : {}),
    children: real.filter((c) => c.parent === r.name).map((c) => c.name),
    vmstate: r.vmstate === true || num(r.vmstate) === 1,
  }));
  return { snapshots, ...(current?.parent ? { current_parent: current.parent } : {}) };
}
