/**
 * A path-template index: `/nodes/{node}/qemu/{vmid}` → value, matched segment by segment, so a lookup costs the
 * path depth, not the number of templates (the PVE schema has 435 of them). When several templates match, the
 * one with the most literal segments wins, like PVE's own handler lookup (and ../shared/pve-api/lookup.mjs).
 */
interface TrieNode<T> {
  literals: Map<string, TrieNode<T>>;
  /** `{name}` children; templates may name the same position differently. */
  params: Array<{ name: string; node: TrieNode<T> }>;
  value?: T;
}

export interface TrieMatch<T> {
  value: T;
  /** Template parameters by name, e.g. `{ node: 'pve1', vmid: '100' }` (already URI-decoded). */
  params: Record<string, string>;
  template: string;
}

const PARAM_SEGMENT = /^\{(.+)\}$/;

/** Splits `/a/b%2Fc/` into decoded, non-empty segments (`['a', 'b/c']`). */
export function splitPath(path: string): string[] {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      segments.push(raw);
    }
  }
  return segments;
}

export class PathTrie<T> {
  private readonly root: TrieNode<T> = newNode();
  private readonly templates = new Map<TrieNode<T>, string>();

  /** Stores `value` under `template`; returns the previous value for that exact template, if any. */
  set(template: string, value: T): T | undefined {
    let node = this.root;
    for (const segment of template.split('/').filter(Boolean)) {
      const param = PARAM_SEGMENT.exec(segment);
      if (param) {
        let child = node.params.find((p) => p.name === param[1]);
        if (!child) {
          child = { name: param[1], node: newNode() };
          node.params.push(child);
        }
        node = child.node;
      } else {
        let child = node.literals.get(segment);
        if (!child) {
          child = newNode();
          node.literals.set(segment, child);
        }
        node = child;
      }
    }
    const previous = node.value;
    node.value = value;
    this.templates.set(node, template.startsWith('/') ? template : `/${template}`);
    return previous;
  }

  /** The value stored for exactly this template (no matching of `{…}` against concrete segments). */
  getExact(template: string): T | undefined {
    let node: TrieNode<T> | undefined = this.root;
    for (const segment of template.split('/').filter(Boolean)) {
      const param = PARAM_SEGMENT.exec(segment);
      node = param ? node.params.find((p) => p.name === param[1])?.node : node.literals.get(segment);
      if (!node) return undefined;
    }
    return node.value;
  }

  match(segments: readonly string[]): TrieMatch<T> | null {
    let best: { node: TrieNode<T>; params: Record<string, string>; literals: number } | null = null;
    const walk = (
      node: TrieNode<T>,
      depth: number,
      params: Record<string, string>,
      literals: number,
    ): void => {
      if (depth === segments.length) {
        if (node.value !== undefined && (!best || literals > best.literals))
          best = { node, params, literals };
        return;
      }
      const segment = segments[depth];
      const literal = node.literals.get(segment);
      if (literal) walk(literal, depth + 1, params, literals + 1);
      for (const p of node.params) walk(p.node, depth + 1, { ...params, [p.name]: segment }, literals);
    };
    walk(this.root, 0, {}, 0);
    if (!best) return null;
    const found: { node: TrieNode<T>; params: Record<string, string> } = best;
    return {
      value: found.node.value as T,
      params: found.params,
      template: this.templates.get(found.node) ?? '',
    };
  }
}

function newNode<T>(): TrieNode<T> {
  return { literals: new Map(), params: [] };
}
