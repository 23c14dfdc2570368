import { readFileSync } from 'node:fs';

/** What heap.json (heap-probe.ts) holds. */
export interface HeapProbe {
  memory: NodeJS.MemoryUsage;
  heap: { total_heap_size: number; used_heap_size: number; external_memory: number; malloced_memory: number };
  spaces: Array<{ space_name: string; space_size: number; space_used_size: number }>;
  snapshot?: string;
}

const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Heap statistics as note lines: the process's memory split, then each V8 space by used size. */
export function heapStatLines(p: HeapProbe): string[] {
  const m = p.memory;
  const lines = [
    `process: rss ${MB(m.rss)}, V8 heap ${MB(m.heapUsed)} used of ${MB(m.heapTotal)}, external ${MB(m.external)} ` +
      `(array buffers ${MB(m.arrayBuffers)}), malloced by V8 ${MB(p.heap.malloced_memory)}; ` +
      `rss − heap total − external = ${MB(m.rss - m.heapTotal - m.external)} (code, native modules, allocator)`,
  ];
  const spaces = [...p.spaces].sort((a, b) => b.space_used_size - a.space_used_size).slice(0, 6);
  lines.push(
    'V8 spaces (used / size): ' +
      spaces.map((s) => `${s.space_name} ${MB(s.space_used_size)} / ${MB(s.space_size)}`).join(', '),
  );
  return lines;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * The top entries of a heap snapshot by shallow (self) size, grouped by constructor for objects and by node type
 * otherwise (strings, code, arrays, ...). Retained sizes would need the dominator tree: not computed here.
 */
export function topBySelfSize(file: string, top = 12): string[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const size = snap.nodes[i + sizeAt];
    total += size;
    const key =
      type === 'object' || type === 'closure'
        ? `${type} ${snap.strings[snap.nodes[i + nameAt]]}`
        : `(${type})`;
    const g = groups.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += size;
    g.count++;
    groups.set(key, g);
  }
  return [
    `heap snapshot: ${MB(total)} in ${(snap.nodes.length / width).toLocaleString('en-US')} objects; ` +
      'top by self size (retained sizes not computed):',
    ...[...groups.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([k, g]) => `  ${MB(g.bytes).padStart(9)}  ${g.count.toLocaleString('en-US').padStart(9)} × ${k}`),
  ];
}
