import { readFileSync } from 'node:fs';

/** What heap.json (heap-probe.ts) holds. */
export interface HeapProbe {
  memory: NodeJS.MemoryUsage;
  heap: { total_heap_size: number; used_heap_size: number; external_memory: number; malloced_memory: number };
  spaces: Array<{ space_name: string; space_size: number; space_used_size: number }>;
  /** The heap at the highest RSS sampled (every 100 ms) since the server started. */
  peak?: { rss: number; heapTotal: number; newSpace: number; oldSpace: number };
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
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * The top entries of a heap snapshot by shallow (self) size, grouped by constructor for objects and by node type
 * otherwise (strings, code, arrays, ...). Retained sizes would need the dominator tree: not computed here.
 */
export function topBySelfSize(file: string, top = 12): string[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  let retained: string[];
  try {
    retained = topRetainers(snap, top);
  } catch (error) {
    retained = [`retained sizes not available: ${error instanceof Error ? error.message : String(error)}`];
  }
  return [...selfSizeLines(snap, top), ...retained];
}

function selfSizeLines(snap: Snapshot, top: number): string[] {
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
      'top by self size:',
    ...[...groups.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([k, g]) => `  ${MB(g.bytes).padStart(9)}  ${g.count.toLocaleString('en-US').padStart(9)} × ${k}`),
  ];
}

/**
 * The objects that keep the most memory alive: each object's retained size (itself plus everything only
 * reachable through it) from the dominator tree of the snapshot's graph (root = node 0, weak edges ignored;
 * Cooper, Harvey & Kennedy's iterative algorithm), then the largest ones that are not V8's synthetic or
 * system entries. Nested holders all appear (a module's service and the Map it holds).
 */
function topRetainers(snap: Snapshot, top: number): string[] {
  const { meta } = snap.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const count = snap.nodes.length / nodeWidth;
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const sizeAt = meta.node_fields.indexOf('self_size');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeToAt = meta.edge_fields.indexOf('to_node');
  const weak = meta.edge_types[0].indexOf('weak');
  const nodeTypes = meta.node_types[0];

  // first edge of each node (edges are stored in node order)
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n++) {
    firstEdge[n] = e;
    e += snap.nodes[n * nodeWidth + edgeCountAt] * edgeWidth;
    firstEdge[n + 1] = e;
  }
  const target = (e: number) => snap.edges[e + edgeToAt] / nodeWidth;
  const strong = (e: number) => snap.edges[e + edgeTypeAt] !== weak;

  // post-order from the root (iterative DFS)
  const order = new Int32Array(count).fill(-1); // post-order number of each node, -1 = unreachable
  const byOrder = new Uint32Array(count);
  const visited = new Uint8Array(count);
  const stack = new Uint32Array(count);
  const cursor = new Uint32Array(count);
  let top_ = 0;
  let next = 0;
  stack[0] = 0;
  visited[0] = 1;
  cursor[0] = firstEdge[0];
  while (top_ >= 0) {
    const n = stack[top_];
    let pushed = false;
    while (cursor[n] < firstEdge[n + 1]) {
      const e = cursor[n];
      cursor[n] += edgeWidth;
      if (!strong(e)) continue;
      const t = target(e);
      if (visited[t]) continue;
      visited[t] = 1;
      cursor[t] = firstEdge[t];
      stack[++top_] = t;
      pushed = true;
      break;
    }
    if (!pushed) {
      order[n] = next;
      byOrder[next++] = n;
      top_--;
    }
  }

  // predecessors of reachable nodes, by post-order number (CSR)
  const predCount = new Uint32Array(next + 1);
  for (let n = 0; n < count; n++) {
    if (order[n] < 0) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += edgeWidth) {
      if (strong(e) && order[target(e)] >= 0) predCount[order[target(e)] + 1]++;
    }
  }
  for (let i = 0; i < next; i++) predCount[i + 1] += predCount[i];
  const preds = new Uint32Array(predCount[next]);
  const fill = predCount.slice(0, next);
  for (let n = 0; n < count; n++) {
    if (order[n] < 0) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += edgeWidth) {
      const t = target(e);
      if (strong(e) && order[t] >= 0) preds[fill[order[t]]++] = order[n];
    }
  }

  // immediate dominators, in post-order numbers; the root has the highest number
  const root = next - 1;
  const idom = new Int32Array(next).fill(-1);
  idom[root] = root;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (a < b) a = idom[a];
      while (b < a) b = idom[b];
    }
    return a;
  };
  for (let changed = true, rounds = 0; changed; rounds++) {
    if (rounds > 100) throw new Error('dominators did not converge');
    changed = false;
    for (let b = root - 1; b >= 0; b--) {
      let dom = -1;
      for (let p = predCount[b]; p < predCount[b + 1]; p++) {
        const q = preds[p];
        if (idom[q] < 0) continue;
        dom = dom < 0 ? q : intersect(q, dom);
      }
      if (dom >= 0 && idom[b] !== dom) {
        idom[b] = dom;
        changed = true;
      }
    }
  }

  // retained sizes: children come before their dominator in post-order
  const retained = new Float64Array(next);
  for (let i = 0; i < next; i++) retained[i] += snap.nodes[byOrder[i] * nodeWidth + sizeAt];
  for (let i = 0; i < root; i++) if (idom[i] >= 0) retained[idom[i]] += retained[i];

  const label = (i: number) => {
    const n = byOrder[i] * nodeWidth;
    const name = snap.strings[snap.nodes[n + nameAt]].replace(/\s+/g, ' ').slice(0, 80);
    return `${nodeTypes[snap.nodes[n + typeAt]]} ${name}`;
  };
  const candidates: number[] = [];
  for (let i = 0; i < root; i++) {
    const type = nodeTypes[snap.nodes[byOrder[i] * nodeWidth + typeAt]];
    // objects a reader can name: not V8's internal arrays, strings, code or synthetic roots
    if (type !== 'object' && type !== 'closure' && type !== 'native') continue;
    if (label(i).startsWith('object system /')) continue;
    candidates.push(i);
  }
  candidates.sort((a, b) => retained[b] - retained[a]);
  return [
    'top holders by retained size (dominator tree; nested holders all listed):',
    ...candidates.slice(0, top).map((i) => `  ${MB(retained[i]).padStart(9)}  ${label(i)}`),
  ];
}
