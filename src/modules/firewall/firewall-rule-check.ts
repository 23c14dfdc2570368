/** A rule as it will be after the call (PVE's field names, `icmp-type` as icmp_type). */
export interface RuleFields {
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
  icmp_type?: string;
  comment?: string;
}

interface Names {
  aliases: Set<string>;
  ipsets: Set<string>;
}

export interface RuleContext {
  /** A VM or container rule: interfaces are net<N>, and the guest's own aliases and ipsets count. */
  guestLevel: boolean;
  /** The cluster's aliases and ipsets (read only when the rule names some). */
  cluster?: Names;
  guest?: Names;
  /** The security groups (read only for a type group rule). */
  groups?: string[];
}

/** Protocols whose rules may name ports (pve-firewall's $PROTOCOLS_WITH_PORTS). */
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp', '6', '17', '136', '132', '33']);
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function portProblem(field: string, text: string): string | undefined {
  for (const item of text.split(',')) {
    const numbers = item.split(':');
    if (!numbers.every((n) => /^\d+$/.test(n))) continue; // a service name; PVE checks it against /etc/services
    if (numbers.some((n) => Number(n) > 65535)) return `${field}: port ${item} is out of range (0-65535)`;
    if (numbers.length === 2 && Number(numbers[0]) > Number(numbers[1])) {
      return `${field}: range ${item} runs backwards (write low:high)`;
    }
  }
  return undefined;
}

const ipVersion = (address: string): 4 | 6 | undefined =>
  IPV4.test(address) ? 4 : /^[0-9A-Fa-f:.]+$/.test(address) && address.includes(':') ? 6 : undefined;

function addressProblem(field: string, text: string, ctx: RuleContext): string | undefined {
  const versions = new Set<number>();
  for (const item of text.split(',')) {
    const ref = /^(\+)?(?:(dc|guest)\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(item);
    if (ref) {
      const [, ipset, prefix, name] = ref;
      const kind = ipset ? 'ipset' : 'alias';
      if (prefix === 'guest' && !ctx.guestLevel)
        return `${field}: '${item}' names a guest ${kind} outside a guest rule`;
      const where =
        prefix === 'dc' ? [ctx.cluster] : prefix === 'guest' ? [ctx.guest] : [ctx.guest, ctx.cluster];
      const found = where.some((n) => n && (ipset ? n.ipsets : n.aliases).has(name));
      if (!found && !(ipset && name === 'management' && prefix !== 'guest')) {
        return `${field}: no ${kind} '${name}'${ctx.guestLevel ? ' for this guest or the cluster' : ' in the cluster'}`;
      }
      continue;
    }
    const ends = item.split('-');
    if (ends.length > 2) return `${field}: '${item}' is not an address range (a-b)`;
    for (const end of ends) {
      const [address, mask] = end.split('/');
      const version = ipVersion(address);
      if (!version) return `${field}: '${end}' is not an IP address, CIDR, range, alias or '+ipset'`;
      if (mask !== undefined && Number(mask) > (version === 4 ? 32 : 128)) {
        return `${field}: prefix length /${mask} is too long for IPv${version}`;
      }
      versions.add(version);
    }
  }
  if (versions.size > 1) return `${field}: do not mix IPv4 and IPv6 addresses in one list`;
  return undefined;
}

/**
 * What pve-firewall's verify_rule would refuse, checked before anything is sent, one message per field (`field:
 * why`). Macro and service names are left to PVE, which knows its own lists.
 */
export function checkRule(rule: RuleFields, ctx: RuleContext): string[] {
  const errors: string[] = [];
  if (rule.type === 'group') {
    if (ctx.groups && !ctx.groups.includes(rule.action)) {
      errors.push(
        `action: no security group '${rule.action}' (${ctx.groups.length ? `groups: ${ctx.groups.join(', ')}` : 'there are none'})`,
      );
    }
  } else if (!/^(ACCEPT|DROP|REJECT)$/.test(rule.action)) {
    errors.push(
      `action: must be ACCEPT, DROP or REJECT for type ${rule.type} (a security group needs type group)`,
    );
  }
  const proto = rule.proto;
  for (const field of ['dport', 'sport'] as const) {
    const value = rule[field];
    if (value === undefined) continue;
    const bad = portProblem(field, value);
    if (bad) errors.push(bad);
    else if (!proto && !rule.macro) errors.push(`${field}: needs proto tcp or udp (or a macro)`);
    else if (proto && !PORT_PROTOCOLS.has(proto)) errors.push(`${field}: protocol ${proto} has no ports`);
  }
  if (rule.icmp_type !== undefined && !['icmp', 'icmpv6', 'ipv6-icmp'].includes(proto ?? '')) {
    errors.push('icmp_type: needs proto icmp or icmpv6');
  }
  if (rule.iface !== undefined && ctx.guestLevel && !/^net\d+$/.test(rule.iface)) {
    errors.push(`iface: a guest rule names its network device (net0, net1, …), not '${rule.iface}'`);
  }
  for (const field of ['source', 'dest'] as const) {
    const value = rule[field];
    const bad = value === undefined ? undefined : addressProblem(field, value, ctx);
    if (bad) errors.push(bad);
  }
  return errors;
}
