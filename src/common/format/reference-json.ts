/**
 * The JSON text the reference (ProxmoxMCP-Plus) answered with, as Python's `json.dumps(x, indent=2)` wrote it —
 * `sortKeys` for its `sort_keys=True` helpers. Scripts written for it `json.loads` the first text item of these
 * tools; the layout matches so a byte-for-byte comparison of ASCII payloads holds too.
 */
export function referenceJson(value: unknown, sortKeys = false): string {
  return JSON.stringify(sortKeys ? sortDeep(value) : value, null, 2);
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value === null || typeof value !== 'object') return value;
  const plain = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(plain).sort())
    if (plain[key] !== undefined) sorted[key] = sortDeep(plain[key]);
  return sorted;
}
