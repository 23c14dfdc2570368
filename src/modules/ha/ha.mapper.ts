import { num } from '../../common/format/human.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import type { HaResourceDto, HaRuleDto, HaState, HaStatusDto } from './dto/ha.dto.js';

/** One row of GET /cluster/ha/resources (or GET …/{sid}): resources.cfg options and the file's digest. */
export interface PveHaResource {
  sid: string;
  type?: string;
  state?: string;
  max_restart?: number | string;
  max_relocate?: number | string;
  failback?: number | string | boolean;
  comment?: string;
  digest?: string;
}

const truthy = (v: unknown): boolean => v === true || v === 1 || v === '1';

/** One row of GET /cluster/ha/rules (PVE 9). */
export interface PveHaRule {
  rule: string;
  type: string;
  resources?: string;
  nodes?: string;
  strict?: number | string | boolean;
  affinity?: string;
  disable?: number | string | boolean;
  comment?: string;
  digest?: string;
  order?: number | string;
}

const list = (text: string | undefined): string[] => (text ?? '').split(',').filter(Boolean);

export function toHaRule(r: PveHaRule): HaRuleDto {
  const nodeAffinity = r.type === 'node-affinity';
  return {
    rule: r.rule,
    type: nodeAffinity ? 'node-affinity' : 'resource-affinity',
    ...(nodeAffinity ? { nodes: list(r.nodes), strict: truthy(r.strict) } : {}),
    ...(r.affinity === 'positive' || r.affinity === 'negative' ? { affinity: r.affinity } : {}),
    resources: list(r.resources),
    ...(truthy(r.disable) ? { disabled: true } : {}),
    ...(r.comment ? { comment: r.comment } : {}),
  };
}

/** One row of GET /cluster/ha/status/current (quorum, master, lrm:<node>, service:<sid>, fencing). */
export interface PveHaStatusEntry {
  id: string;
  type: string;
  node?: string;
  status?: string;
  quorate?: number | string | boolean;
  sid?: string;
  state?: string;
  crm_state?: string;
  request_state?: string;
  'armed-state'?: string;
}

/** GET /cluster/ha/status/manager_status: the CRM's manager_status file (empty before HA was ever used). */
export interface PveHaManagerStatus {
  manager_status?: { master_node?: string; node_status?: Record<string, string> };
}

/** `vm:100` → 100 (a sid of another resource type gives NaN). */
export const sidVmid = (sid: string): number => Number(/^(?:vm|ct):(\d+)$/.exec(sid)?.[1] ?? NaN);

/** A resource with its guest's name, node, status and HA state from the inventory. */
export function toHaResource(
  row: PveHaResource,
  guest: PveClusterResource | undefined,
  rules?: readonly PveHaRule[],
): HaResourceDto {
  return {
    sid: row.sid,
    vmid: sidVmid(row.sid),
    type: row.sid.startsWith('ct:') ? 'ct' : 'vm',
    ...(guest?.name ? { name: String(guest.name) } : {}),
    ...(guest?.node ? { node: String(guest.node) } : {}),
    state: (row.state ?? 'started') as HaState,
    ...(guest?.hastate ? { ha_state: guest.hastate } : {}),
    ...(guest?.status ? { status: String(guest.status) } : {}),
    // PVE omits options left at their default (1, 1, failback on)
    max_restart: row.max_restart === undefined ? 1 : num(row.max_restart),
    max_relocate: row.max_relocate === undefined ? 1 : num(row.max_relocate),
    failback: row.failback === undefined ? true : truthy(row.failback),
    ...(row.comment ? { comment: row.comment } : {}),
    ...(rules ? { rules: rules.filter((r) => list(r.resources).includes(row.sid)).map(toHaRule) } : {}),
  };
}

/** The two status reads as one answer: quorum, the CRM master, each node's manager and LRM view, the services. */
export function toHaStatus(
  target: string,
  entries: readonly PveHaStatusEntry[],
  manager: PveHaManagerStatus,
): HaStatusDto {
  const quorum = entries.find((e) => e.type === 'quorum');
  const master = entries.find((e) => e.type === 'master');
  const fencing = entries.find((e) => e.type === 'fencing');
  const lrms = new Map(
    entries.filter((e) => e.type === 'lrm' && e.node).map((e) => [String(e.node), e.status ?? '']),
  );
  const nodeStatus = manager.manager_status?.node_status ?? {};
  const names = [...new Set([...Object.keys(nodeStatus), ...lrms.keys()])].sort();
  return {
    target,
    quorate: truthy(quorum?.quorate),
    quorum: quorum?.status ?? 'unknown',
    ...(master?.node ? { manager_node: master.node } : {}),
    ...(master?.status ? { manager_status: master.status } : {}),
    ...(fencing ? { fencing: fencing['armed-state'] ?? fencing.status ?? 'unknown' } : {}),
    nodes: names.map((node) => ({
      node,
      status: nodeStatus[node] ?? 'unknown',
      ...(lrms.has(node) ? { lrm: lrms.get(node) } : {}),
    })),
    services: entries
      .filter((e) => e.type === 'service' && e.sid)
      .map((e) => ({
        sid: String(e.sid),
        node: e.node ?? '',
        state: e.crm_state ?? e.state ?? e.status ?? 'unknown',
        ...(e.request_state ? { request_state: e.request_state } : {}),
      }))
      .sort((a, b) => a.sid.localeCompare(b.sid)),
  };
}
