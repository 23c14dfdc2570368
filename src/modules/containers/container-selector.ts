import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { isNodeName, isVmid } from '../../common/validation/proxmox-formats.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';

/** One container a selector picked. */
export interface SelectedContainer {
  node: string;
  vmid: number;
  /** The name (= hostname) PVE lists, or CT-<vmid>. */
  name: string;
  status: string;
}

export type SelectorItem =
  | { kind: 'node-vmid'; text: string; node: string; vmid: number }
  | { kind: 'node-name'; text: string; node: string; name: string }
  | { kind: 'vmid'; text: string; vmid: number }
  | { kind: 'name'; text: string; name: string };

export const MAX_SELECTOR_ITEMS = 200;
/** A container name as PVE stores it (a DNS name; hostnames are case-insensitive). */
const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * The reference project's selector grammar (§2.4): comma-separated items `101`, `pve1:101`, `pve1/name`, `name`.
 * One difference, on purpose: an item that is malformed is a VALIDATION error naming it, instead of being dropped
 * silently (a typo in a bulk delete must not shrink the selection without anyone noticing).
 */
export function parseSelector(selector: string): SelectorItem[] {
  const texts = selector.split(',').map((t) => t.trim());
  if (texts.length > MAX_SELECTOR_ITEMS) {
    throw invalid(`selector has ${texts.length} items; at most ${MAX_SELECTOR_ITEMS} are allowed`);
  }
  const problems: string[] = [];
  const items: SelectorItem[] = [];
  texts.forEach((text, index) => {
    const item = parseItem(text);
    if (typeof item === 'string')
      problems.push(`item ${index + 1} ${text ? `'${text}'` : '(empty)'}: ${item}`);
    else items.push(item);
  });
  if (problems.length) {
    throw invalid(`selector is malformed: ${problems.join('; ')}`, {
      hint: 'Items are 101, pve1:101, pve1/name or name, separated by commas.',
      details: { malformed: problems },
    });
  }
  return items;
}

function parseItem(text: string): SelectorItem | string {
  if (!text) return 'empty item (two commas, or a comma at either end)';
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  if (colon >= 0 && slash >= 0) return "use either node:vmid or node/name, not both ':' and '/'";
  if (colon >= 0) {
    const node = text.slice(0, colon);
    const vmid = text.slice(colon + 1);
    if (!isNodeName(node)) return `'${text.slice(0, colon)}' is not a node name`;
    if (!isVmid(vmid)) return `'${text.slice(colon + 1)}' is not a container ID (100-999999999)`;
    return { kind: 'node-vmid', text, node, vmid: Number(vmid) };
  }
  if (slash >= 0) {
    const node = text.slice(0, slash);
    const name = text.slice(slash + 1);
    if (!isNodeName(node)) return `'${text.slice(0, slash)}' is not a node name`;
    if (!NAME_RE.test(name)) return `'${name}' is not a container name (letters, digits, '-' and '.')`;
    return { kind: 'node-name', text, node, name };
  }
  if (/^\d+$/.test(text)) {
    if (!isVmid(text)) return 'not a container ID (100-999999999, no leading zeros)';
    return { kind: 'vmid', text, vmid: Number(text) };
  }
  if (!NAME_RE.test(text)) return "not a container name (letters, digits, '-' and '.')";
  return { kind: 'name', text, name: text };
}

/**
 * The containers a selector picks from an inventory (/cluster/resources rows), in selector order, each once.
 * Every item must match at least one container; unmatched items are one VALIDATION error naming all of them.
 */
export function resolveSelector(
  selector: string,
  inventory: PveClusterResource[],
  unavailableNodes: string[] = [],
): SelectedContainer[] {
  const items = parseSelector(selector);
  const containers = inventory.filter((r) => r.type === 'lxc').map(toSelected);
  const vms = new Set(inventory.filter((r) => r.type === 'qemu').map((r) => num(r.vmid)));
  const chosen = new Map<string, SelectedContainer>();
  const unmatched: string[] = [];
  for (const item of items) {
    const hits = containers.filter((c) => matches(item, c));
    if (!hits.length) {
      unmatched.push(`'${item.text}'${whyUnmatched(item, vms)}`);
      continue;
    }
    for (const hit of hits) chosen.set(`${hit.node}/${hit.vmid}`, hit);
  }
  if (unmatched.length) {
    const offline = unavailableNodes.length
      ? ` Nodes ${unavailableNodes.join(', ')} are offline; their containers are listed with stale data.`
      : '';
    throw invalid(`selector items match no container: ${unmatched.join(', ')}; nothing was done`, {
      hint: `get_containers lists the containers with their IDs, names and nodes.${offline}`,
      details: { unmatched: unmatched },
    });
  }
  return [...chosen.values()];
}

function matches(item: SelectorItem, c: SelectedContainer): boolean {
  switch (item.kind) {
    case 'node-vmid':
      return c.node === item.node && c.vmid === item.vmid;
    case 'node-name':
      return c.node === item.node && c.name.toLowerCase() === item.name.toLowerCase();
    case 'vmid':
      return c.vmid === item.vmid;
    case 'name':
      return c.name.toLowerCase() === item.name.toLowerCase();
  }
}

function whyUnmatched(item: SelectorItem, vms: Set<number>): string {
  if ((item.kind === 'vmid' || item.kind === 'node-vmid') && vms.has(item.vmid)) {
    return ` (${item.vmid} is a VM, not a container)`;
  }
  return '';
}

function toSelected(r: PveClusterResource): SelectedContainer {
  const vmid = num(r.vmid);
  return {
    node: String(r.node),
    vmid,
    name: r.name ? String(r.name) : `CT-${vmid}`,
    status: String(r.status ?? 'unknown'),
  };
}

function invalid(message: string, options: ConstructorParameters<typeof DomainError>[2] = {}): DomainError {
  return new DomainError('VALIDATION', message, options);
}
