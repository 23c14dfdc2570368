/**
 * Answers shared between callers. A tool answer built once from a cached upstream answer (InventoryService.derived)
 * is handed to every caller while that cache entry lives, instead of being rebuilt per call. Such an answer is
 * deep-frozen (no caller, interceptor or transport can change what the next caller sees: a write throws) and
 * marked here, so the layers above may also keep what they derive from it, keyed on the object itself: the
 * tool's text (ToolInvoker) and the serialised MCP result (the direct tools/call path). Those derived copies die
 * with the answer (WeakMap keys), so they follow the inventory cache exactly: a new upstream answer is a new
 * object, and nothing derived from the old one is served for it.
 *
 * Only objects that depend on nothing but their cache entry and the call's own arguments may be marked: the
 * same object is served to every caller who asks with the same arguments.
 */
const shared = new WeakSet<object>();

export function shareAnswer<T extends object>(answer: T): T {
  deepFreeze(answer);
  shared.add(answer);
  return answer;
}

export const isSharedAnswer = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && shared.has(value);

function deepFreeze(value: object): void {
  // an answer is JSON (it is serialised as such), so it has no cycles to guard against
  Object.freeze(value);
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
}
