import type {
  FirewallAliasDto,
  FirewallIpsetDto,
  FirewallOptionsDto,
  FirewallRuleDto,
  FirewallScope,
} from './dto/firewall.dto.js';

/** A rule as PVE lists it (GET …/firewall/rules): its fields, `pos` and the list's `digest`. */
export interface PveFwRule {
  pos: number;
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
  enable?: number | string;
  comment?: string;
  ipversion?: number;
  digest?: string;
}

export interface PveFwAlias {
  name: string;
  cidr: string;
  comment?: string;
  digest?: string;
}

export interface PveFwIpset {
  name: string;
  comment?: string;
  digest?: string;
}

export interface PveFwIpsetEntry {
  cidr: string;
  nomatch?: number | boolean | string;
  comment?: string;
}

export type PveFwOptions = Record<string, string | number | undefined> & { digest?: string };

type OptionKind = 'bool' | 'int' | 'str';
const CLUSTER: FirewallScope[] = ['cluster'];
const NODE: FirewallScope[] = ['node'];
const GUEST: FirewallScope[] = ['vm', 'container'];

/** Which options each scope has (PVE's …/firewall/options schema) and how they are typed. */
export const OPTION_TABLE: Record<keyof FirewallOptionsDto, { kind: OptionKind; scopes: FirewallScope[] }> = {
  enable: { kind: 'bool', scopes: ['cluster', 'node', 'vm', 'container'] },
  policy_in: { kind: 'str', scopes: [...CLUSTER, ...GUEST] },
  policy_out: { kind: 'str', scopes: [...CLUSTER, ...GUEST] },
  policy_forward: { kind: 'str', scopes: CLUSTER },
  ebtables: { kind: 'bool', scopes: CLUSTER },
  log_ratelimit: { kind: 'str', scopes: CLUSTER },
  log_level_in: { kind: 'str', scopes: [...NODE, ...GUEST] },
  log_level_out: { kind: 'str', scopes: [...NODE, ...GUEST] },
  log_level_forward: { kind: 'str', scopes: NODE },
  ndp: { kind: 'bool', scopes: [...NODE, ...GUEST] },
  nosmurfs: { kind: 'bool', scopes: NODE },
  smurf_log_level: { kind: 'str', scopes: NODE },
  tcpflags: { kind: 'bool', scopes: NODE },
  tcp_flags_log_level: { kind: 'str', scopes: NODE },
  nftables: { kind: 'bool', scopes: NODE },
  log_nf_conntrack: { kind: 'bool', scopes: NODE },
  nf_conntrack_allow_invalid: { kind: 'bool', scopes: NODE },
  nf_conntrack_max: { kind: 'int', scopes: NODE },
  nf_conntrack_tcp_timeout_established: { kind: 'int', scopes: NODE },
  nf_conntrack_tcp_timeout_syn_recv: { kind: 'int', scopes: NODE },
  nf_conntrack_helpers: { kind: 'str', scopes: NODE },
  protection_synflood: { kind: 'bool', scopes: NODE },
  protection_synflood_rate: { kind: 'int', scopes: NODE },
  protection_synflood_burst: { kind: 'int', scopes: NODE },
  dhcp: { kind: 'bool', scopes: GUEST },
  ipfilter: { kind: 'bool', scopes: GUEST },
  macfilter: { kind: 'bool', scopes: GUEST },
  radv: { kind: 'bool', scopes: GUEST },
};

export const optionsOf = (scope: FirewallScope): string[] =>
  Object.entries(OPTION_TABLE)
    .filter(([, o]) => o.scopes.includes(scope))
    .map(([k]) => k);

const truthy = (v: unknown): boolean => v === 1 || v === '1' || v === true || v === 'true';

/** PVE options → DTO: the scope's keys only, booleans as booleans; unknown keys (newer PVE) are left out. */
export function toOptions(scope: FirewallScope, raw: PveFwOptions): FirewallOptionsDto {
  const out: Record<string, unknown> = {};
  for (const key of optionsOf(scope)) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    const { kind } = OPTION_TABLE[key as keyof FirewallOptionsDto];
    out[key] = kind === 'bool' ? truthy(value) : kind === 'int' ? Number(value) : String(value);
  }
  return out;
}

export function toRule(row: PveFwRule): FirewallRuleDto {
  const optional = ['macro', 'proto', 'dport', 'sport', 'source', 'dest', 'iface', 'log', 'comment'] as const;
  const rule: FirewallRuleDto = {
    pos: Number(row.pos),
    type: row.type,
    action: row.action,
    enable: truthy(row.enable),
  };
  for (const key of optional) if (row[key] !== undefined && row[key] !== '') rule[key] = String(row[key]);
  if (row['icmp-type'] !== undefined) rule.icmp_type = row['icmp-type'];
  return rule;
}

export const toAlias = (row: PveFwAlias): FirewallAliasDto => ({
  name: row.name,
  cidr: row.cidr,
  ...(row.comment ? { comment: row.comment } : {}),
});

export const toIpset = (row: PveFwIpset, entries: PveFwIpsetEntry[]): FirewallIpsetDto => ({
  name: row.name,
  ...(row.comment ? { comment: row.comment } : {}),
  entries: entries.map((e) => ({
    cidr: e.cidr,
    nomatch: truthy(e.nomatch),
    ...(e.comment ? { comment: e.comment } : {}),
  })),
});
