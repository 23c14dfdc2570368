import { createHash } from 'node:crypto';
import type { SimGuest } from './cluster-model.js';

/** The requested state of an HA resource (resources.cfg `state`). */
export type HaRequestState = 'started' | 'stopped' | 'enabled' | 'disabled' | 'ignored';

/** One section of /etc/pve/ha/resources.cfg: `vm: 100` or `ct: 101` with its options. */
export interface SimHaResource {
  sid: string;
  type: 'vm' | 'ct';
  vmid: number;
  state: HaRequestState;
  max_restart: number;
  max_relocate: number;
  failback: boolean;
  comment?: string;
}

/** One section of /etc/pve/ha/rules.cfg (PVE 9: HA rules replace HA groups). */
export interface SimHaRule {
  rule: string;
  type: 'node-affinity' | 'resource-affinity';
  /** HA resource IDs (`vm:100`, `ct:101`). */
  resources: string[];
  /** node-affinity: `node[:priority]` entries. */
  nodes?: string[];
  strict?: boolean;
  /** resource-affinity: keep together (positive) or apart (negative). */
  affinity?: 'positive' | 'negative';
  disable?: boolean;
  comment?: string;
}

/**
 * A migrate or relocate the CRM is carrying out (POST …/migrate, …/relocate): the service is in state `migrate` or
 * `relocate` while the LRM's migration task (`upid`, on the source node) runs; then it is started (or stopped, as
 * requested) on the target.
 */
export interface SimHaMotion {
  kind: 'migrate' | 'relocate';
  target: string;
  upid: string;
}

/** `vm:100` / `ct:101`, or the bare vmid PVE accepts as a shortcut. */
export function parseSid(text: string): { type?: 'vm' | 'ct'; vmid: number } | undefined {
  const m = /^(?:(vm|ct):)?(\d+)$/.exec(text);
  if (!m) return undefined;
  return { ...(m[1] ? { type: m[1] as 'vm' | 'ct' } : {}), vmid: Number(m[2]) };
}

/** What the CRM makes of a requested state: `enabled` is an alias of started, `disabled` stops the guest. */
export function crmState(resource: SimHaResource, nodeOnline: boolean): string {
  if (resource.state === 'ignored') return 'ignored';
  if (!nodeOnline) return 'fence';
  return resource.state === 'started' || resource.state === 'enabled' ? 'started' : 'stopped';
}

/**
 * The HA stack of the simulated cluster: resources.cfg (the resources and their requested state). The manager's
 * view (master node, LRM per node, service states) is computed from it and the nodes' state when read, as the
 * CRM would converge to it; the simulator does that at once instead of within a few seconds. A managed guest
 * carries its CRM state in `SimGuest.hastate` (the `hastate` of /cluster/resources).
 */
export class HaState {
  readonly resources = new Map<string, SimHaResource>();
  /** HA rules by id, in rules.cfg order (handlers/ha-rules.ts). */
  readonly rules = new Map<string, SimHaRule>();
  /** Services being migrated or relocated, by sid (handlers/ha-motion.ts). */
  readonly motions = new Map<string, SimHaMotion>();

  /** The CRM's state of a service: `migrate`/`relocate` while it moves, else what its requested state gives. */
  serviceState(resource: SimHaResource, nodeOnline: boolean): string {
    const motion = this.motions.get(resource.sid);
    if (motion && resource.state !== 'ignored') return motion.kind;
    return crmState(resource, nodeOnline);
  }

  /** The digest of rules.cfg. */
  rulesDigest(): string {
    const text = [...this.rules.values()].map((r) => JSON.stringify(r)).join('\n');
    return createHash('sha1').update(text).digest('hex');
  }

  /** DELETE's `purge`: the resource leaves every rule, and a rule left without resources goes. */
  purgeFromRules(sid: string): void {
    for (const [id, rule] of this.rules) {
      rule.resources = rule.resources.filter((r) => r !== sid);
      if (rule.resources.length === 0) this.rules.delete(id);
    }
  }

  /** The digest of resources.cfg (PUT's `digest` guards concurrent changes). */
  digest(): string {
    const text = [...this.resources.values()]
      .sort((a, b) => a.sid.localeCompare(b.sid))
      .map((r) => JSON.stringify(r))
      .join('\n');
    return createHash('sha1').update(text).digest('hex');
  }

  /**
   * Applies a resource's requested state to its guest, as the CRM and LRM do: started runs the guest, stopped
   * and disabled stop it, ignored leaves it alone. `removed` clears the guest's `hastate`.
   */
  apply(
    resource: SimHaResource,
    guest: SimGuest | undefined,
    nodeOnline: boolean,
    setRunning: (guest: SimGuest, running: boolean) => void,
    removed = false,
  ): void {
    if (!guest) return;
    if (removed) {
      guest.hastate = undefined;
      return;
    }
    guest.hastate = this.serviceState(resource, nodeOnline);
    if (!nodeOnline || this.motions.has(resource.sid)) return;
    if (guest.hastate === 'started' && guest.status !== 'running') setRunning(guest, true);
    if (guest.hastate === 'stopped' && guest.status === 'running') setRunning(guest, false);
  }
}
