import { createHash } from 'node:crypto';
import type { ClusterState } from './cluster-state.js';

/** One firewall rule as pve-firewall keeps it in a .fw file ([RULES] section line), without its position. */
export interface SimFwRule {
  type: string;
  action: string;
  macro?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  source?: string;
  dest?: string;
  iface?: string;
  log?: string;
  'icmp-type'?: string;
  enable?: number;
  comment?: string;
}

/** [ALIASES]: `name cidr # comment`. */
export interface SimFwAlias {
  name: string;
  cidr: string;
  comment?: string;
}

/** One [IPSET name] entry: `[!]cidr # comment` (`!` is nomatch). */
export interface SimFwIpsetEntry {
  cidr: string;
  nomatch?: boolean;
  comment?: string;
}

export interface SimFwIpset {
  name: string;
  comment?: string;
  entries: SimFwIpsetEntry[];
}

/** [OPTIONS]: option → value (booleans as 0/1, as PVE stores and returns them). */
export type SimFwOptions = Record<string, string | number>;

/** One .fw file: cluster.fw, <node>/host.fw or <vmid>.fw (hosts have no aliases or ipsets in PVE). */
export interface SimFwScope {
  options: SimFwOptions;
  rules: SimFwRule[];
  aliases: Map<string, SimFwAlias>;
  ipsets: Map<string, SimFwIpset>;
}

export interface SimFwGroup {
  comment?: string;
  rules: SimFwRule[];
}

const emptyScope = (): SimFwScope => ({ options: {}, rules: [], aliases: new Map(), ipsets: new Map() });

/** PVE's digests are SHA-1 over the section's contents (copy_list_with_digest, copy_opject_with_digest). */
export function fwDigest(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v));
  return createHash('sha1').update(text).digest('hex');
}

/**
 * The firewall configuration of the simulated cluster: /etc/pve/firewall/cluster.fw (options, aliases, ipsets,
 * security groups, rules), each node's host.fw and each guest's <vmid>.fw. The cluster file is seeded the way a
 * small installation looks: the firewall still off, an admin network alias, a trusted ipset and a blocklist, a
 * web-server security group, and rules that allow SSH from the admin network and ping (but not the web UI port).
 */
export class FirewallState {
  readonly cluster: SimFwScope = emptyScope();
  readonly groups = new Map<string, SimFwGroup>();
  private readonly nodes = new Map<string, SimFwScope>();
  private readonly guests = new Map<number, SimFwScope>();

  constructor() {
    this.cluster.options = { enable: 0, policy_in: 'DROP', policy_out: 'ACCEPT' };
    for (const alias of [
      { name: 'admin_net', cidr: '192.168.10.0/24', comment: 'Admin workstations' },
      { name: 'backup_server', cidr: '192.168.20.5', comment: 'Proxmox Backup Server' },
      { name: 'monitoring', cidr: '192.168.30.10' },
    ]) {
      this.cluster.aliases.set(alias.name, alias);
    }
    this.cluster.ipsets.set('trusted', {
      name: 'trusted',
      comment: 'Hosts allowed to reach the guests',
      entries: [
        { cidr: '192.168.10.0/24', comment: 'admin network' },
        { cidr: '192.168.10.66', nomatch: true, comment: 'kiosk' },
        { cidr: '192.168.20.5' },
      ],
    });
    this.cluster.ipsets.set('blocklist', {
      name: 'blocklist',
      entries: [{ cidr: '203.0.113.0/24', comment: 'abuse reports' }],
    });
    this.groups.set('webserver', {
      comment: 'HTTP and HTTPS',
      rules: [
        { type: 'in', action: 'ACCEPT', macro: 'HTTP', enable: 1 },
        { type: 'in', action: 'ACCEPT', macro: 'HTTPS', enable: 1 },
      ],
    });
    this.cluster.rules.push(
      { type: 'in', action: 'DROP', source: '+blocklist', log: 'info', enable: 1, comment: 'blocklist' },
      {
        type: 'in',
        action: 'ACCEPT',
        macro: 'SSH',
        source: 'admin_net',
        enable: 1,
        comment: 'SSH from admins',
      },
      { type: 'in', action: 'ACCEPT', proto: 'icmp', 'icmp-type': 'echo-request', enable: 1 },
    );
  }

  /** A node's host.fw (created empty on first use, as a missing file reads). */
  node(name: string): SimFwScope {
    let scope = this.nodes.get(name);
    if (!scope) this.nodes.set(name, (scope = emptyScope()));
    return scope;
  }

  /** A guest's <vmid>.fw. */
  guest(vmid: number): SimFwScope {
    let scope = this.guests.get(vmid);
    if (!scope) this.guests.set(vmid, (scope = emptyScope()));
    return scope;
  }

  /** Destroying a guest removes its firewall file. */
  dropGuest(vmid: number): void {
    this.guests.delete(vmid);
  }
}

const states = new WeakMap<ClusterState, FirewallState>();

/** The firewall configuration of a simulated cluster (created with its seed on first use). */
export function firewallOf(cluster: ClusterState): FirewallState {
  let state = states.get(cluster);
  if (!state) states.set(cluster, (state = new FirewallState()));
  return state;
}
