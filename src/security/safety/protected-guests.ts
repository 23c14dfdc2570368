import type { ToolRisk } from '../../common/tools/mcp-tool.decorator.js';
import type { SafetyConfig } from '../../config/app-config.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';

/*
 * The rules of protected guests as plain functions (ProtectionGuard applies them). Generic over the tool registry:
 * a tool reaches a guest through its `vmid` argument, or a container `selector` (`101`, `pve1:101`, `pve1/web`,
 * `web`, comma-separated); the few exceptions are the declared lists below.
 */

/** Destroy-level besides every `destroy`-risk tool (both are `destroy` today; listed so a risk change keeps them). */
export const DESTROY_LEVEL_TOOLS: ReadonlySet<string> = new Set(['rollback_snapshot', 'restore_backup']);

/**
 * Non-read tools that change nothing of the guest they name, so `protect_all_mutations` lets them run: a backup
 * of a protected guest is wanted, and read_vm_file only reads (it is `exec` for its approval rules).
 */
export const NOT_GUEST_CHANGES: ReadonlySet<string> = new Set(['create_backup', 'read_vm_file']);

/** The argument that sets a guest's tags: on a protected guest it must keep the protection tag. */
export const TAGS_ARGUMENT = 'tags';

export type ProtectionLevel = 'destroy' | 'mutation' | 'tags' | undefined;

/** Which check a call of this tool needs, before looking at any guest (undefined: none). */
export function protectionLevel(
  tool: { name: string; risk: ToolRisk },
  args: Record<string, unknown>,
  safety: SafetyConfig,
): ProtectionLevel {
  if (tool.risk === 'read') return undefined;
  if (tool.risk === 'destroy' || DESTROY_LEVEL_TOOLS.has(tool.name)) return 'destroy';
  if (safety.protectAllMutations && !NOT_GUEST_CHANGES.has(tool.name)) return 'mutation';
  if (args[TAGS_ARGUMENT] !== undefined) return 'tags';
  return undefined;
}

/** A guest the call names: by ID, or by a container selector item (node and/or name). */
export type GuestReference =
  { vmid: number; node?: string } | { name: string; node?: string; containersOnly: true };

const VMID_RE = /^[1-9][0-9]{2,8}$/;
const asVmid = (value: unknown): number | undefined => {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return VMID_RE.test(text) ? Number(text) : undefined;
};

/**
 * The guests a call's (not yet validated) arguments name. Lenient on purpose: an argument that does not parse
 * names no guest here, and the validation that follows refuses the call with its own clear error.
 */
export function guestReferences(args: Record<string, unknown>): GuestReference[] {
  const refs: GuestReference[] = [];
  const vmid = asVmid(args.vmid);
  if (vmid !== undefined) refs.push({ vmid, ...(typeof args.node === 'string' ? { node: args.node } : {}) });
  if (typeof args.selector === 'string') {
    for (const item of args.selector.split(',').slice(0, 200)) {
      const text = item.trim();
      if (!text) continue;
      const colon = text.indexOf(':');
      const slash = text.indexOf('/');
      const id = asVmid(colon >= 0 ? text.slice(colon + 1) : text);
      if (colon >= 0 && id !== undefined) refs.push({ vmid: id, node: text.slice(0, colon) });
      else if (colon < 0 && slash < 0 && id !== undefined) refs.push({ vmid: id });
      else if (slash >= 0)
        refs.push({ name: text.slice(slash + 1), node: text.slice(0, slash), containersOnly: true });
      else if (colon < 0) refs.push({ name: text, containersOnly: true });
    }
  }
  return refs;
}

/** The existing guests (qemu/lxc rows of /cluster/resources) the references pick. */
export function referencedGuests(refs: GuestReference[], guests: PveClusterResource[]): PveClusterResource[] {
  const picked = new Set<PveClusterResource>();
  for (const ref of refs) {
    for (const guest of guests) {
      if (guest.type !== 'qemu' && guest.type !== 'lxc') continue;
      if ('vmid' in ref) {
        // the ID decides; a wrong node is the tool's own NOT_FOUND, not a way around the protection
        if (Number(guest.vmid) === ref.vmid) picked.add(guest);
      } else if (
        guest.type === 'lxc' &&
        (guest.name ?? '').toLowerCase() === ref.name.toLowerCase() &&
        (ref.node === undefined || guest.node === ref.node)
      ) {
        picked.add(guest);
      }
    }
  }
  return [...picked];
}

/** PVE keeps tags `;`-separated (older configs: `,` or spaces too); a tool's `tags` may also be an array. */
export const tagList = (tags: unknown): string[] =>
  Array.isArray(tags)
    ? tags.flatMap(tagList)
    : typeof tags === 'string'
      ? tags.split(/[;,\s]+/).filter(Boolean)
      : [];

const hasTag = (tags: unknown, tag: string) =>
  tagList(tags).some((t) => t.toLowerCase() === tag.toLowerCase());

/** Why a guest is protected (undefined: it is not). */
export interface Protection {
  guest: PveClusterResource;
  byTag: boolean;
  byVmid: boolean;
}

export function protectionOf(guest: PveClusterResource, safety: SafetyConfig): Protection | undefined {
  const byTag = hasTag(guest.tags, safety.protectedTag);
  const byVmid = safety.protectedVmids.includes(Number(guest.vmid));
  return byTag || byVmid ? { guest, byTag, byVmid } : undefined;
}

/** A `tags` argument that would take the protection tag off a guest protected by it. */
export const dropsProtectionTag = (tags: unknown, safety: SafetyConfig): boolean =>
  (typeof tags === 'string' || Array.isArray(tags)) && !hasTag(tags, safety.protectedTag);

/** The refusal's message: the guest, why it is protected (the tag or the vmid list) and what is refused. */
export function protectionMessage(
  toolName: string,
  level: Exclude<ProtectionLevel, undefined>,
  protection: Protection,
  safety: SafetyConfig,
): string {
  const { guest } = protection;
  const kind = guest.type === 'lxc' ? 'Container' : 'VM';
  const name = guest.name ? ` (${guest.name})` : '';
  const why = [
    ...(protection.byTag ? [`it carries the PVE tag '${safety.protectedTag}' (safety.protected_tag)`] : []),
    ...(protection.byVmid
      ? [`its ID is listed in safety.protected_vmids (${safety.protectedVmids.join(', ')})`]
      : []),
  ].join(' and ');
  const what =
    level === 'destroy'
      ? `${toolName} is destroy-level and is refused on a protected guest`
      : level === 'mutation'
        ? `${toolName} changes it and safety.protect_all_mutations is on`
        : `${toolName} would remove the tag '${safety.protectedTag}' from it; only an operator lifts a protection`;
  return `${kind} ${String(guest.vmid)}${name} on ${guest.node ?? '?'} is protected: ${why}. ${what}, whoever asks and with or without an approval.`;
}
