/**
 * The table of revertable PVE endpoints: which config-like objects the change journal records, how to read them
 * (a GET on the same path) and how to build the inverse request. Each is a PUT (or the async POST of a VM's config)
 * on an object path whose GET answers the object as flat key/value pairs; the inverse is a PUT on that path that sets
 * the previous values, `delete`s the keys the change added, and carries the current `digest` where PVE accepts one,
 * so a concurrent edit makes PVE refuse it.
 */
export interface RevertableEndpoint {
  /** What the object is, as list_changes shows it. */
  kind:
    'vm_config' | 'container_config' | 'firewall_rule' | 'firewall_options' | 'ha_resource' | 'backup_job';
  methods: readonly ('POST' | 'PUT')[];
  pattern: RegExp;
  /** The PUT of this object accepts `digest` (PVE refuses it when the object changed since it was read). */
  digest: boolean;
  /** Keys the GET answers that are not settings of the object (identifiers, digests, computed values). */
  ignore: readonly string[];
  /** Keys PVE wants in every update even when unchanged (a firewall rule's `type`): sent with their current value. */
  carry?: readonly string[];
  /** A request the journal does not record (moving a firewall rule changes which rule the path names). */
  skip?: (params: Readonly<Record<string, unknown>>) => boolean;
}

const SEG = '([^/]+)';
const FW_BASE = `(?:/cluster|/nodes/${SEG}(?:/(?:qemu|lxc)/(\\d+))?|/cluster/firewall/groups/${SEG})`;

export const REVERTABLE_ENDPOINTS: readonly RevertableEndpoint[] = [
  {
    kind: 'vm_config',
    // the POST is journalled only when PVE applied it at once (no task: the change journal skips a UPID answer)
    methods: ['POST', 'PUT'],
    pattern: new RegExp(`^/nodes/${SEG}/qemu/(\\d+)/config$`),
    digest: true,
    ignore: ['digest', 'lock', 'parent', 'pending'],
  },
  {
    kind: 'container_config',
    methods: ['PUT'],
    pattern: new RegExp(`^/nodes/${SEG}/lxc/(\\d+)/config$`),
    digest: true,
    ignore: ['digest', 'lock', 'parent'],
  },
  {
    kind: 'firewall_rule',
    methods: ['PUT'],
    pattern: new RegExp(`^${FW_BASE}(?:/firewall)?/rules/(\\d+)$`),
    digest: true,
    ignore: ['digest', 'pos', 'ipversion'],
    carry: ['type'],
    skip: (params) => params.moveto !== undefined,
  },
  {
    kind: 'firewall_options',
    methods: ['PUT'],
    pattern: new RegExp(`^${FW_BASE}/firewall/options$`),
    digest: true,
    ignore: ['digest'],
  },
  {
    kind: 'ha_resource',
    methods: ['PUT'],
    pattern: new RegExp(`^/cluster/ha/resources/${SEG}$`),
    digest: true,
    ignore: ['digest', 'sid', 'type'],
  },
  {
    kind: 'backup_job',
    methods: ['PUT'],
    pattern: new RegExp(`^/cluster/backup/${SEG}$`),
    digest: false,
    ignore: ['id', 'type', 'digest', 'next-run'],
  },
];

/** Keys whose values are secrets: never stored (PVE shows them masked anyway) and never reverted. */
const SECRET_KEYS = new Set(['cipassword', 'password']);
export const REDACTED = '[redacted]';

export type ObjectValues = Record<string, string | number>;

export function matchRevertable(
  method: string,
  path: string,
  params: Readonly<Record<string, unknown>> | undefined,
): RevertableEndpoint | undefined {
  const endpoint = REVERTABLE_ENDPOINTS.find(
    (e) => (e.methods as readonly string[]).includes(method) && e.pattern.test(path),
  );
  if (!endpoint || endpoint.skip?.(params ?? {})) return undefined;
  return endpoint;
}

/** The guest an object path belongs to (`/nodes/pve1/qemu/100/…`), for list_changes' vmid filter. */
export function guestOf(path: string): { node?: string; vmid?: number } {
  const guest = /^\/nodes\/([^/]+)\/(?:qemu|lxc)\/(\d+)\//.exec(path);
  if (guest) return { node: decodeURIComponent(guest[1]), vmid: Number(guest[2]) };
  const node = /^\/nodes\/([^/]+)\//.exec(path);
  if (node) return { node: decodeURIComponent(node[1]) };
  const ha = /^\/cluster\/ha\/resources\/(?:(?:vm|ct)(?:%3A|:))?(\d+)$/i.exec(path);
  return ha ? { vmid: Number(ha[1]) } : {};
}

/** The object's settings from a GET answer: flat scalars only, secrets redacted, identifiers dropped. */
export function objectValues(endpoint: RevertableEndpoint, answer: unknown): ObjectValues {
  const values: ObjectValues = {};
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return values;
  for (const [key, value] of Object.entries(answer as Record<string, unknown>)) {
    if (endpoint.ignore.includes(key)) continue;
    if (typeof value === 'boolean') values[key] = value ? 1 : 0;
    else if (typeof value === 'string' || typeof value === 'number') {
      values[key] = SECRET_KEYS.has(key) ? REDACTED : value;
    }
  }
  return values;
}

export function digestOf(answer: unknown): string | undefined {
  const digest = (answer as { digest?: unknown } | null)?.digest;
  return typeof digest === 'string' ? digest : undefined;
}

const same = (a: string | number | undefined, b: string | number | undefined) =>
  (a === undefined ? undefined : String(a)) === (b === undefined ? undefined : String(b));

/** The keys a change changed: present on one side only, or with another value. */
export function changedKeys(before: ObjectValues, after: ObjectValues): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !same(before[k], after[k])).sort();
}

/** The fields whose current value is no longer what the change left (the object was edited since). */
export function conflictingKeys(
  fields: readonly string[],
  after: ObjectValues,
  current: ObjectValues,
): string[] {
  return fields.filter((k) => !same(after[k], current[k]));
}

/**
 * The inverse request: the previous values of the changed fields, `delete` for the ones the change added, the
 * current digest where the endpoint takes one. Secret fields cannot be put back (their value was never stored):
 * they are listed in `skipped`.
 */
export function inverseRequest(
  endpoint: RevertableEndpoint,
  fields: readonly string[],
  before: ObjectValues,
  current: ObjectValues,
  currentDigest: string | undefined,
): { params: Record<string, string | number>; skipped: string[] } {
  const params: Record<string, string | number> = {};
  const deleted: string[] = [];
  const skipped: string[] = [];
  for (const key of fields) {
    if (SECRET_KEYS.has(key)) skipped.push(key);
    else if (key in before) params[key] = before[key];
    else deleted.push(key);
  }
  if (deleted.length > 0) params.delete = deleted.join(',');
  for (const key of endpoint.carry ?? []) {
    if (!(key in params) && key in current) params[key] = current[key];
  }
  if (endpoint.digest && currentDigest) params.digest = currentDigest;
  return { params, skipped };
}
