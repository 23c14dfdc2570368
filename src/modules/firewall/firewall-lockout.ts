import type { PveFwRule } from './firewall.mapper.js';

/** The ports a node is managed through: pveproxy (web UI and API) and sshd. */
const MANAGEMENT_PORTS = [
  { port: 8006, label: '8006/tcp (web UI and API)', macros: [] as string[] },
  { port: 22, label: '22/tcp (SSH)', macros: ['SSH'] },
];

/** /etc/services names for the management ports. */
/** The labels in the order refusals name them. */
export const MANAGEMENT_PORT_LABELS = MANAGEMENT_PORTS.map((p) => p.label);

const SERVICE_PORTS: Record<string, number> = { ssh: 22 };

const enabled = (r: PveFwRule): boolean => Number(r.enable ?? 0) === 1;

function portsCover(dport: string, port: number): boolean {
  return dport.split(',').some((item) => {
    const range = /^(\d+):(\d+)$/.exec(item);
    if (range) return Number(range[1]) <= port && port <= Number(range[2]);
    if (/^\d+$/.test(item)) return Number(item) === port;
    return SERVICE_PORTS[item] === port;
  });
}

/** Does this enabled incoming ACCEPT rule let TCP to `port` in (from some source)? */
function accepts(rule: PveFwRule, target: (typeof MANAGEMENT_PORTS)[number]): boolean {
  if (!enabled(rule) || rule.type !== 'in' || rule.action !== 'ACCEPT') return false;
  if (rule.macro) return target.macros.includes(rule.macro);
  if (rule.proto && rule.proto !== 'tcp' && rule.proto !== '6') return false;
  return !rule.dport || portsCover(rule.dport, target.port);
}

export interface HostRuleset {
  /** The input policy in force for hosts (the cluster's policy_in, PVE default DROP). */
  policyIn: string;
  /** Cluster rules, then the node's own host rules. */
  rules: PveFwRule[];
  /** The rules of the security groups the rules insert (type group). */
  groups: Map<string, PveFwRule[]>;
  /** A cluster ipset or alias named `management` exists: PVE lets it reach the management ports. */
  managementSet: boolean;
}

/**
 * The management ports a host firewall with this ruleset would block: none when the input policy accepts, or a
 * `management` ipset/alias lets PVE's built-in management rules in; otherwise each port no enabled incoming ACCEPT
 * rule (directly or through an inserted security group) opens. Source restrictions are trusted: a rule that
 * allows 8006 from the admin network counts, as the caller is expected to be there.
 */
export function blockedManagementPorts(host: HostRuleset): string[] {
  if (host.policyIn === 'ACCEPT' || host.managementSet) return [];
  const effective = host.rules.flatMap((r) =>
    r.type === 'group' && enabled(r) ? (host.groups.get(r.action) ?? []) : [r],
  );
  return MANAGEMENT_PORTS.filter((p) => !effective.some((r) => accepts(r, p))).map((p) => p.label);
}
