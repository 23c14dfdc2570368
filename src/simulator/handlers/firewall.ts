import type { GuestType } from '../cluster-model.js';
import { firewallOf, fwDigest, type SimFwIpset, type SimFwRule, type SimFwScope } from '../firewall-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { guestOf } from './guests.js';

/**
 * pve-firewall's API (PVE/API2/Firewall/{Rules,Cluster,Host,VM,Aliases,IPSet,Groups}.pm) for the cluster, each
 * node's host firewall and each VM and container. Changes are synchronous (they rewrite the .fw file): no task.
 * Every change of a rule list or of the options checks the caller's `digest` against the file's
 * (assert_if_modified), rules are verified like verify_rule does (400 with per-field errors), and `moveto`
 * renumbers the list the way PVE does. Aliases and ipsets are read-only here (seeded, or set by tests).
 */
export function registerFirewallRoutes(router: Router): void {
  const scopes: Array<[string, Env]> = [
    ['/cluster/firewall', 'cluster'],
    ['/nodes/{node}/firewall', 'host'],
    ['/nodes/{node}/qemu/{vmid}/firewall', 'qemu'],
    ['/nodes/{node}/lxc/{vmid}/firewall', 'lxc'],
  ];
  for (const [base, env] of scopes) {
    router
      .get(`${base}/rules`, (ctx) => listRules(scopeOf(ctx, env).rules))
      .post(`${base}/rules`, (ctx) => createRule(ctx, env))
      .get(`${base}/rules/{pos}`, (ctx) => readRule(ctx, scopeOf(ctx, env).rules))
      .put(`${base}/rules/{pos}`, (ctx) => updateRule(ctx, env))
      .delete(`${base}/rules/{pos}`, (ctx) => deleteRule(ctx, env))
      .get(`${base}/options`, (ctx) => readOptions(scopeOf(ctx, env)))
      .put(`${base}/options`, (ctx) => updateOptions(ctx, env));
    if (env === 'host') continue;
    router
      .get(`${base}/aliases`, (ctx) => listAliases(scopeOf(ctx, env)))
      .get(`${base}/ipset`, (ctx) => listIpsets(scopeOf(ctx, env)))
      .get(`${base}/ipset/{name}`, (ctx) => ipsetEntries(ctx, scopeOf(ctx, env)));
  }
  router.get('/cluster/firewall/groups', listGroups).get('/cluster/firewall/groups/{group}', groupRules);
}

/** The rule environment of a file: which interface names and rule types it takes. */
type Env = 'cluster' | 'host' | GuestType;

function scopeOf(ctx: RouteContext, env: Env): SimFwScope {
  const fw = firewallOf(ctx.cluster);
  if (env === 'cluster') return fw.cluster;
  if (env === 'host') return fw.node(ctx.node().name);
  return fw.guest(guestOf(ctx, env).vmid);
}

const MODIFIED = 'detected modified configuration - file changed by other user? Try again.';

/** PVE::Tools::assert_if_modified. */
function assertDigest(ctx: RouteContext, current: string): void {
  const digest = ctx.str('digest');
  if (digest !== undefined && digest !== current) throw PveError.internal(MODIFIED);
}

const rulesDigest = (rules: SimFwRule[]): string => fwDigest(rules);

/** GET …/rules: each rule with its position and the list's digest (copy_list_with_digest). */
function listRules(rules: SimFwRule[]): unknown {
  const digest = rulesDigest(rules);
  return rules.map((rule, pos) => ({ ...rule, pos, digest }));
}

function rulePos(ctx: RouteContext, rules: SimFwRule[]): number {
  const pos = ctx.int('pos') ?? 0;
  if (pos >= rules.length) throw PveError.internal(`no rule at position ${pos}`);
  return pos;
}

function readRule(ctx: RouteContext, rules: SimFwRule[]): unknown {
  const pos = rulePos(ctx, rules);
  return { ...rules[pos], pos, digest: rulesDigest(rules) };
}

const RULE_KEYS = [
  'type',
  'action',
  'macro',
  'proto',
  'dport',
  'sport',
  'source',
  'dest',
  'iface',
  'log',
  'icmp-type',
  'enable',
  'comment',
] as const;

/** copy_rule_data: a given value is set, an empty one removes the property. */
function copyRuleData(ctx: RouteContext, rule: SimFwRule): void {
  const target = rule as unknown as Record<string, string | number | undefined>;
  for (const key of RULE_KEYS) {
    if (!ctx.has(key)) continue;
    const value = key === 'enable' ? ctx.int(key) : ctx.str(key);
    if (value === '' || value === undefined) delete target[key];
    else target[key] = value;
  }
}

function createRule(ctx: RouteContext, env: Env): null {
  const scope = scopeOf(ctx, env);
  assertDigest(ctx, rulesDigest(scope.rules));
  const rule = { type: '', action: '' } as SimFwRule;
  copyRuleData(ctx, rule);
  verifyRule(ctx, env, scope, rule);
  if (rule.enable === undefined) rule.enable = 0;
  scope.rules.unshift(rule);
  return null;
}

/**
 * PUT …/rules/{pos}: `moveto` moves the rule (other arguments are ignored) the way PVE rebuilds the list: the
 * rule is taken out and put in front of the rule that was at `moveto`, or at the end when `moveto` is past it.
 * Otherwise `type` is required, the given properties replace, `delete` removes, and the result is verified.
 */
function updateRule(ctx: RouteContext, env: Env): null {
  const scope = scopeOf(ctx, env);
  assertDigest(ctx, rulesDigest(scope.rules));
  const pos = rulePos(ctx, scope.rules);
  const rule = scope.rules[pos];
  const moveto = ctx.int('moveto');
  if (moveto !== undefined && moveto !== pos) {
    const moved: SimFwRule[] = [];
    scope.rules.forEach((r, i) => {
      if (i === pos) return;
      if (i === moveto) moved.push(rule);
      moved.push(r);
    });
    if (moveto >= scope.rules.length) moved.push(rule);
    scope.rules.splice(0, scope.rules.length, ...moved);
    return null;
  }
  if (moveto !== undefined) return null;
  if (!ctx.has('type')) throw PveError.params({ type: 'property is missing' });
  const updated: SimFwRule = { ...rule };
  copyRuleData(ctx, updated);
  for (const key of splitList(ctx.str('delete'))) {
    delete (updated as unknown as Record<string, unknown>)[key];
  }
  verifyRule(ctx, env, scope, updated);
  scope.rules[pos] = updated;
  return null;
}

function deleteRule(ctx: RouteContext, env: Env): null {
  const scope = scopeOf(ctx, env);
  assertDigest(ctx, rulesDigest(scope.rules));
  scope.rules.splice(rulePos(ctx, scope.rules), 1);
  return null;
}

const splitList = (text: string | undefined): string[] =>
  text === undefined ? [] : text.split(/[\s,;]+/).filter(Boolean);

// ---------------------------------------------------------------- verify_rule

/** PVE's standard macros (a selection of PVE/Firewall.pm's $pve_fw_macros). */
const MACROS = new Set([
  'Amanda', 'Auth', 'BGP', 'BitTorrent', 'Ceph', 'CVS', 'Citrix', 'DAAP', 'DCC', 'DHCPfwd', 'DHCPv6', 'DNS',
  'Distcc', 'FTP', 'Finger', 'GNUnet', 'GRE', 'Git', 'HKP', 'HTTP', 'HTTPS', 'ICPV2', 'ICQ', 'IMAP', 'IMAPS',
  'IPIP', 'IPsec', 'IPsecah', 'IPsecnat', 'IRC', 'Jetdirect', 'L2TP', 'LDAP', 'LDAPS', 'MDNS', 'MSNP', 'MSSQL',
  'Mail', 'Munin', 'MySQL', 'NNTP', 'NNTPS', 'NTP', 'NeighborDiscovery', 'OSPF', 'OpenVPN', 'PCA', 'PMG', 'POP3',
  'POP3S', 'PPtP', 'Ping', 'PostgreSQL', 'Printer', 'RDP', 'RIP', 'RNDC', 'Razor', 'Rdate', 'Rsync', 'SANE',
  'SMB', 'SMBswat', 'SMTP', 'SMTPS', 'SNMP', 'SPAMD', 'SPICEproxy', 'SSH', 'SVN', 'SixXS', 'Squid', 'Submission',
  'Syslog', 'TFTP', 'Telnet', 'Telnets', 'Time', 'Trcrt', 'VNC', 'VNCL', 'Web', 'Webcache', 'Webmin', 'Whois',
]); // prettier-ignore

/** /etc/protocols names pve-firewall accepts (numbers 0-255 too). */
const PROTOCOLS = new Set([
  'tcp', 'udp', 'icmp', 'icmpv6', 'ipv6-icmp', 'igmp', 'gre', 'esp', 'ah', 'sctp', 'udplite', 'dccp', 'ospf',
  'vrrp', 'pim', 'l2tp', 'ipip', 'ipv6', 'ipencap', 'rsvp', 'eigrp', 'mpls-in-ip',
]); // prettier-ignore
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp', '6', '17', '136', '132', '33']);

/** /etc/services names the simulator knows. */
const SERVICES = new Set([
  'ssh', 'http', 'https', 'domain', 'ntp', 'smtp', 'submission', 'imap', 'imaps', 'pop3', 'pop3s', 'ftp',
  'telnet', 'ldap', 'ldaps', 'mysql', 'postgresql', 'snmp', 'syslog', 'rsync', 'bootps', 'bootpc', 'tftp',
]); // prettier-ignore

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
const NAME = /^[A-Za-z][A-Za-z0-9\-_]+$/;

/** parse_port_name_number_or_range: `22`, `ssh`, `80:85`, comma-separated. */
function portError(text: string): string | undefined {
  for (const item of text.split(',')) {
    const range = /^(\d+):(\d+)$/.exec(item);
    if (range) {
      if (Number(range[1]) > 65535 || Number(range[2]) > 65535) return `invalid port '${item}'`;
      if (Number(range[1]) > Number(range[2])) return `invalid port range '${item}'`;
      continue;
    }
    if (/^\d+$/.test(item)) {
      if (Number(item) > 65535) return `invalid port '${item}'`;
      continue;
    }
    if (!SERVICES.has(item)) return `invalid port '${item}'`;
  }
  return undefined;
}

/** One address list item: an IP, CIDR, range, ipset (`+name`, `+dc/name`, `+guest/name`) or alias. */
function addressError(item: string, env: Env, scope: SimFwScope, cluster: SimFwScope): string | undefined {
  const ref = /^(\+)?(?:(dc|guest)\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(item);
  if (ref) {
    const [, ipset, prefix, name] = ref;
    const local = env === 'qemu' || env === 'lxc' ? scope : undefined;
    const pools = prefix === 'dc' ? [cluster] : prefix === 'guest' ? [local] : [local, cluster];
    const found = pools.some((s) => s && (ipset ? s.ipsets.has(name) : s.aliases.has(name)));
    if (found || (ipset && name === 'management' && prefix !== 'guest')) return undefined;
    return ipset ? `no such ipset '${name}'` : `no such alias '${name}'`;
  }
  const [from, to, extra] = item.split('-');
  if (extra !== undefined) return `invalid address range '${item}'`;
  for (const part of to === undefined ? [from] : [from, to]) {
    const [address, mask, more] = part.split('/');
    const v4 = IPV4.test(address);
    const v6 = !v4 && IPV6.test(address) && address.includes(':');
    if (more !== undefined || (!v4 && !v6)) return `invalid IP address '${part}'`;
    if (mask !== undefined && (!/^\d+$/.test(mask) || Number(mask) > (v4 ? 32 : 128))) {
      return `invalid IP address '${part}'`;
    }
  }
  return undefined;
}

/** verify_rule: 400 "Parameter verification failed." with every field's error. */
function verifyRule(ctx: RouteContext, env: Env, scope: SimFwScope, rule: SimFwRule): void {
  const errors: Record<string, string> = {};
  const fw = firewallOf(ctx.cluster);
  const guest = env === 'qemu' || env === 'lxc';
  if (rule.type === 'group') {
    if (!NAME.test(rule.action)) errors.action = 'invalid characters in security group name';
    else if (!fw.groups.has(rule.action)) errors.action = `no such security group '${rule.action}'`;
  } else if (rule.type === 'forward' && guest) {
    errors.type = 'forward rules are only allowed for hosts and vnets';
  } else if (!/^(ACCEPT|DROP|REJECT)$/.test(rule.action)) {
    errors.action = `unknown action '${rule.action}'`;
  }
  if (rule.macro !== undefined && !MACROS.has(rule.macro)) errors.macro = `unknown macro '${rule.macro}'`;
  const proto = rule.proto;
  if (proto !== undefined && !PROTOCOLS.has(proto) && !(/^\d+$/.test(proto) && Number(proto) <= 255)) {
    errors.proto = `unknown protocol '${proto}'`;
  }
  for (const key of ['dport', 'sport'] as const) {
    const value = rule[key];
    if (value === undefined) continue;
    const bad = portError(value);
    if (bad) errors[key] = bad;
    else if (!proto && !rule.macro) errors.proto = `missing property - '${key}' requires this property`;
    else if (proto && !PORT_PROTOCOLS.has(proto)) errors[key] = `protocol '${proto}' does not support ports`;
  }
  if (rule['icmp-type'] !== undefined && proto !== 'icmp' && proto !== 'icmpv6' && proto !== 'ipv6-icmp') {
    errors.proto = "missing property - 'icmp-type' requires this property";
  }
  if (rule.iface !== undefined && guest && !/^net\d+$/.test(rule.iface)) {
    errors.iface = `wrong interface name ('${rule.iface}') - you need to use network device names like 'net0'`;
  }
  for (const key of ['source', 'dest'] as const) {
    const value = rule[key];
    if (value === undefined) continue;
    for (const item of value.split(',')) {
      const bad = addressError(item.trim(), env, scope, fw.cluster);
      if (bad) {
        errors[key] = bad;
        break;
      }
    }
  }
  if (Object.keys(errors).length) throw PveError.params(errors);
}

// ---------------------------------------------------------------- options

function readOptions(scope: SimFwScope): unknown {
  return { ...scope.options, digest: fwDigest(scope.options) };
}

/** PUT …/options: digest, then `delete`, then the given options (booleans stored as 0/1). */
function updateOptions(ctx: RouteContext, env: Env): null {
  const scope = scopeOf(ctx, env);
  assertDigest(ctx, fwDigest(scope.options));
  const options = { ...scope.options };
  for (const key of splitList(ctx.str('delete'))) delete options[key];
  for (const key of Object.keys(ctx.params)) {
    if (['node', 'vmid', 'digest', 'delete'].includes(key)) continue;
    const type = ctx.paramSchema(key)?.type;
    if (type === 'boolean') options[key] = ctx.bool(key) ? 1 : 0;
    else if (type === 'integer') options[key] = ctx.int(key) ?? 0;
    else options[key] = ctx.str(key) ?? '';
  }
  scope.options = options;
  return null;
}

// ---------------------------------------------------------------- aliases, ipsets, groups

function listAliases(scope: SimFwScope): unknown {
  const digest = fwDigest(scope.aliases);
  return [...scope.aliases.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((a) => ({ ...a, digest }));
}

function listIpsets(scope: SimFwScope): unknown {
  const digest = fwDigest(scope.ipsets);
  return [...scope.ipsets.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => ({ name: s.name, ...(s.comment !== undefined ? { comment: s.comment } : {}), digest }));
}

function ipsetEntries(ctx: RouteContext, scope: SimFwScope): unknown {
  const name = ctx.str('name') ?? '';
  const ipset: SimFwIpset | undefined = scope.ipsets.get(name);
  if (!ipset) throw PveError.internal(`no such IPSet '${name}'`);
  const digest = fwDigest(ipset.entries);
  return ipset.entries.map((e) => ({
    cidr: e.cidr,
    ...(e.nomatch ? { nomatch: 1 } : {}),
    ...(e.comment !== undefined ? { comment: e.comment } : {}),
    digest,
  }));
}

function listGroups(ctx: RouteContext): unknown {
  const { groups } = firewallOf(ctx.cluster);
  const digest = fwDigest(groups);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, g]) => ({ group, ...(g.comment !== undefined ? { comment: g.comment } : {}), digest }));
}

function groupRules(ctx: RouteContext): unknown {
  const name = ctx.str('group') ?? '';
  const group = firewallOf(ctx.cluster).groups.get(name);
  if (!group) throw PveError.internal(`no such security group '${name}'`);
  return listRules(group.rules);
}
