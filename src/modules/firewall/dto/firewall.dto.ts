import { Type } from 'class-transformer';
import {
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsIntParam, IsNodeName, IsVmid } from '../../../common/validation/proxmox.validators.js';
import { stacked } from '../../../common/validation/stacked.js';

/** Where a firewall setting lives: cluster.fw, a node's host.fw, or a guest's <vmid>.fw. */
export const FIREWALL_SCOPES = ['cluster', 'node', 'vm', 'container'] as const;
export type FirewallScope = (typeof FIREWALL_SCOPES)[number];

export const LOG_LEVELS = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
  'nolog',
] as const;
export const RULE_TYPES = ['in', 'out', 'group'] as const;
export const POLICIES = ['ACCEPT', 'REJECT', 'DROP'] as const;

/** PVE's security group / ipset / alias name pattern. */
const NAME = '[A-Za-z][A-Za-z0-9\\-_]+';
/** One port, a service name or a range a:b; comma-separated (pve-fw-dport-spec). */
const PORT_ITEM = '(?:\\d{1,5}(?::\\d{1,5})?|[a-z][a-z0-9\\-]*)';
export const PORT_LIST = new RegExp(`^${PORT_ITEM}(?:,${PORT_ITEM})*$`);
/** One address item: IP, CIDR, range, `+ipset` (`+dc/…`, `+guest/…`) or an alias name (pve-fw-addr-spec). */
const IP_ITEM = '[0-9A-Fa-f:.]+(?:/\\d{1,3})?';
const ADDR_ITEM = `(?:\\+?(?:(?:dc|guest)/)?${NAME}|${IP_ITEM}(?:-${IP_ITEM})?)`;
export const ADDRESS_LIST = new RegExp(`^${ADDR_ITEM}(?:,${ADDR_ITEM})*$`);
const PROTO = /^(?:[a-z][a-z0-9-]*|\d{1,3})$/;
const IFACE = /^[A-Za-z][A-Za-z0-9_]{1,15}(?:[:.]\d+)?$/;
const DIGEST = /^[0-9a-f]{40,64}$/;
const ONE_LINE = /^[^\n\r]*$/;
const orEmpty = (re: RegExp): RegExp => new RegExp(`^$|${re.source}`);

const SCOPE_DESCRIPTION =
  'Which firewall: cluster (datacenter-wide rules, aliases, ipsets, the master switch), node (one host; pass `node`), ' +
  'vm or container (one guest; pass `vmid`, its node is looked up)';

/** The scope every firewall tool takes: `scope` plus `node` or `vmid` as it needs. */
export class FirewallScopeQueryDto extends TargetQueryDto {
  @IsIn(FIREWALL_SCOPES)
  @JSONSchema({ description: SCOPE_DESCRIPTION })
  scope: FirewallScope;

  @IsOptional()
  @IsNodeName()
  @JSONSchema({
    description:
      'scope node: the node (required). scope vm/container: optional, checked against where the guest is.',
  })
  node?: string;

  @IsOptional()
  @IsVmid()
  @JSONSchema({ description: 'scope vm/container: the guest ID (required), e.g. 100' })
  vmid?: number;
}

export class FirewallDeleteQueryDto extends FirewallScopeQueryDto {
  @IsOptional()
  @IsString()
  @Matches(DIGEST)
  @JSONSchema({
    description:
      'The digest list_firewall_rules returned: refused when the rule list changed since (default: the current one, read just before)',
  })
  digest?: string;
}

/** `/firewall/rules/{pos}`. */
export class FirewallPosParamDto {
  @IsIntParam()
  @Min(0)
  @Max(9999)
  @JSONSchema({ description: 'Rule position (0 = first), as list_firewall_rules shows it' })
  pos: number;
}

const Opt = (...more: Array<(target: object, key: string) => void>) => stacked(IsOptional(), ...more);

const RULE_TEXT = {
  type: 'in (incoming), out (outgoing) or group (insert a security group; action names it)',
  action: 'ACCEPT, DROP or REJECT; for type group the security group name',
  macro: 'A PVE macro (standard service), e.g. SSH, HTTP, HTTPS, DNS, Ping; it sets protocol and ports',
  proto: 'IP protocol: a name from /etc/protocols (tcp, udp, icmp, icmpv6, …) or a number 0-255',
  dport:
    "Destination port(s): numbers 0-65535, service names (ssh, https), ranges a:b, comma-separated, e.g. '22,80:85'. Needs proto tcp or udp (or a macro)",
  sport: 'Source port(s), same syntax as dport',
  source:
    "Source address: an IP, CIDR, range a-b, an alias name or an ipset '+name' ('+dc/name' for a cluster one from a guest); comma-separated, do not mix IPv4 and IPv6",
  dest: 'Destination address, same syntax as source',
  iface:
    'Interface: for VMs and containers the device key (net0, net1, …); for hosts any interface name (vmbr0)',
  log: 'Log level of matches (nolog = none)',
  icmp_type: 'ICMP type (proto icmp or icmpv6), e.g. echo-request',
  comment: 'Comment (one line)',
};

/** add_firewall_rule: PVE's rule fields (`icmp-type` spelled icmp_type). */
export class AddFirewallRuleBodyDto {
  @IsIn(RULE_TYPES) @JSONSchema({ description: RULE_TEXT.type }) type: 'in' | 'out' | 'group';
  @IsString()
  @MinLength(2)
  @MaxLength(20)
  @Matches(new RegExp(`^${NAME}$`))
  @JSONSchema({ description: RULE_TEXT.action })
  action: string;
  @Opt(
    IsString(),
    MaxLength(128),
    Matches(new RegExp(`^${NAME}$`)),
    JSONSchema({ description: RULE_TEXT.macro }),
  )
  macro?: string;
  @Opt(IsString(), Matches(PROTO), JSONSchema({ description: RULE_TEXT.proto })) proto?: string;
  @Opt(IsString(), MaxLength(512), Matches(PORT_LIST), JSONSchema({ description: RULE_TEXT.dport }))
  dport?: string;
  @Opt(IsString(), MaxLength(512), Matches(PORT_LIST), JSONSchema({ description: RULE_TEXT.sport }))
  sport?: string;
  @Opt(IsString(), MaxLength(512), Matches(ADDRESS_LIST), JSONSchema({ description: RULE_TEXT.source }))
  source?: string;
  @Opt(IsString(), MaxLength(512), Matches(ADDRESS_LIST), JSONSchema({ description: RULE_TEXT.dest }))
  dest?: string;
  @Opt(IsString(), MaxLength(20), Matches(IFACE), JSONSchema({ description: RULE_TEXT.iface }))
  iface?: string;
  @Opt(IsIn(LOG_LEVELS), JSONSchema({ description: RULE_TEXT.log })) log?: string;
  @Opt(IsString(), Matches(/^[a-z0-9-]+$/), MaxLength(64), JSONSchema({ description: RULE_TEXT.icmp_type }))
  icmp_type?: string;
  @Opt(
    IsBoolean(),
    JSONSchema({
      description: "Rule active (default true here; PVE's own API default would add it disabled)",
    }),
  )
  enable?: boolean;
  @Opt(IsString(), MaxLength(4096), Matches(ONE_LINE), JSONSchema({ description: RULE_TEXT.comment }))
  comment?: string;
  @Opt(
    IsInt(),
    Min(0),
    Max(9999),
    JSONSchema({
      description: 'Where the new rule goes (0 = first, the default as in PVE); past the end = last',
    }),
  )
  pos?: number;
  @Opt(
    IsString(),
    Matches(DIGEST),
    JSONSchema({
      description: 'The digest list_firewall_rules returned: refused when the list changed since',
    }),
  )
  digest?: string;
}

const CLEARS = ' An empty string removes it.';

/** A text field of a rule that update_firewall_rule sets, or removes with an empty string. */
const Clearable = (maxLength: number, pattern: RegExp, description: string) =>
  Opt(
    IsString(),
    MaxLength(maxLength),
    Matches(orEmpty(pattern)),
    JSONSchema({ description: description + CLEARS }),
  );

/** update_firewall_rule: the fields to change ('' removes an optional one), or `moveto` to move the rule. */
export class UpdateFirewallRuleBodyDto {
  @Opt(IsIn(RULE_TYPES), JSONSchema({ description: RULE_TEXT.type })) type?: 'in' | 'out' | 'group';
  @Opt(
    IsString(),
    MinLength(2),
    MaxLength(20),
    Matches(new RegExp(`^${NAME}$`)),
    JSONSchema({ description: RULE_TEXT.action }),
  )
  action?: string;
  @Clearable(128, new RegExp(`^${NAME}$`), RULE_TEXT.macro)
  macro?: string;
  @Opt(IsString(), Matches(orEmpty(PROTO)), JSONSchema({ description: RULE_TEXT.proto + CLEARS }))
  proto?: string;
  @Clearable(512, PORT_LIST, RULE_TEXT.dport)
  dport?: string;
  @Clearable(512, PORT_LIST, RULE_TEXT.sport)
  sport?: string;
  @Clearable(512, ADDRESS_LIST, RULE_TEXT.source)
  source?: string;
  @Clearable(512, ADDRESS_LIST, RULE_TEXT.dest)
  dest?: string;
  @Clearable(20, IFACE, RULE_TEXT.iface)
  iface?: string;
  @Opt(IsIn(LOG_LEVELS), JSONSchema({ description: RULE_TEXT.log })) log?: string;
  @Opt(
    IsString(),
    MaxLength(64),
    Matches(/^[a-z0-9-]*$/),
    JSONSchema({ description: RULE_TEXT.icmp_type + CLEARS }),
  )
  icmp_type?: string;
  @Opt(IsBoolean(), JSONSchema({ description: 'Rule active' })) enable?: boolean;
  @Opt(
    IsString(),
    MaxLength(4096),
    Matches(ONE_LINE),
    JSONSchema({ description: RULE_TEXT.comment + CLEARS }),
  )
  comment?: string;
  @Opt(
    IsInt(),
    Min(0),
    Max(9999),
    JSONSchema({
      description:
        'Move the rule so that it ends at this position (0 = first); alone, without field changes, as PVE moves rules in a call of their own',
    }),
  )
  moveto?: number;
  @Opt(
    IsString(),
    Matches(DIGEST),
    JSONSchema({
      description:
        'The digest list_firewall_rules returned: refused when the rule list changed since (default: the current one, read just before)',
    }),
  )
  digest?: string;
}

// ---------------------------------------------------------------- output

export class FirewallScopeResultDto {
  @IsString() @JSONSchema({ description: 'The configured target' }) target: string;
  @IsIn(FIREWALL_SCOPES) scope: FirewallScope;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The node (scope node, or where the guest is)' })
  node?: string;
  @IsOptional() @IsInt() vmid?: number;
}

export class FirewallRuleDto {
  @IsInt() @JSONSchema({ description: 'Position (0 = first; rules are matched in order)' }) pos: number;
  @IsString() @JSONSchema({ description: 'in, out, forward or group' }) type: string;
  @IsString()
  @JSONSchema({ description: 'ACCEPT, DROP, REJECT, or the security group (type group)' })
  action: string;
  @IsOptional() @IsString() macro?: string;
  @IsOptional() @IsString() proto?: string;
  @IsOptional() @IsString() dport?: string;
  @IsOptional() @IsString() sport?: string;
  @IsOptional() @IsString() source?: string;
  @IsOptional() @IsString() dest?: string;
  @IsOptional() @IsString() iface?: string;
  @IsOptional() @IsString() log?: string;
  @IsOptional() @IsString() icmp_type?: string;
  @IsBoolean() enable: boolean;
  @IsOptional() @IsString() comment?: string;
}

export class FirewallRuleListDto extends FirewallScopeResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => FirewallRuleDto) rules: FirewallRuleDto[];
  @IsOptional()
  @IsString()
  @JSONSchema({
    description:
      'Digest of the rule list: pass it to update_firewall_rule or delete_firewall_rule to refuse a concurrent change (absent for an empty list)',
  })
  digest?: string;
}

export class FirewallRuleChangeDto extends FirewallScopeResultDto {
  @ValidateNested() @Type(() => FirewallRuleDto) rule: FirewallRuleDto;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'What the call changed' })
  changes: string[];
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Digest of the rule list after the change' })
  digest?: string;
}

export class FirewallRuleDeletedDto extends FirewallScopeResultDto {
  @IsInt() pos: number;
  @Equals(true) removed: true;
  @ValidateNested()
  @Type(() => FirewallRuleDto)
  @JSONSchema({ description: 'The rule that was removed' })
  rule: FirewallRuleDto;
}

const BoolOpt = (description: string) => Opt(IsBoolean(), JSONSchema({ description }));
const LevelOpt = (description: string) => Opt(IsIn(LOG_LEVELS), JSONSchema({ description }));
const PolicyOpt = (description: string) => Opt(IsIn(POLICIES), JSONSchema({ description }));
const IntOpt = (min: number, max: number | undefined, description: string) =>
  max === undefined
    ? Opt(IsInt(), Min(min), JSONSchema({ description }))
    : Opt(IsInt(), Min(min), Max(max), JSONSchema({ description }));

/**
 * Firewall options of every scope (each scope takes only its own, see set_firewall_options). Booleans are
 * booleans here, 0/1 in PVE.
 */
export class FirewallOptionsDto {
  @BoolOpt(
    'Firewall on (cluster: the master switch, default off; node: host rules, default on; guest: default off)',
  )
  enable?: boolean;
  @PolicyOpt('Input policy (cluster and guests; cluster default DROP)') policy_in?:
    'ACCEPT' | 'REJECT' | 'DROP';
  @PolicyOpt('Output policy (cluster and guests; default ACCEPT)') policy_out?: 'ACCEPT' | 'REJECT' | 'DROP';
  @Opt(IsIn(['ACCEPT', 'DROP']), JSONSchema({ description: 'cluster: forward policy (nftables)' }))
  policy_forward?: 'ACCEPT' | 'DROP';
  @BoolOpt('cluster: ebtables rules (default true)') ebtables?: boolean;
  @Opt(
    IsString(),
    Matches(/^(?:(?:enable=)?[01])?(?:,?burst=\d+)?(?:,?rate=[1-9]\d*\/(?:second|minute|hour|day))?$/),
    JSONSchema({ description: "cluster: log rate limit, e.g. 'enable=1,burst=5,rate=1/second'" }),
  )
  log_ratelimit?: string;
  @LevelOpt('node and guest: log level of incoming traffic') log_level_in?: string;
  @LevelOpt('node and guest: log level of outgoing traffic') log_level_out?: string;
  @LevelOpt('node: log level of forwarded traffic') log_level_forward?: string;
  @BoolOpt('node and guest: allow NDP (default true)') ndp?: boolean;
  @BoolOpt('node: SMURFS filter') nosmurfs?: boolean;
  @LevelOpt('node: log level of the SMURFS filter') smurf_log_level?: string;
  @BoolOpt('node: filter illegal TCP flag combinations') tcpflags?: boolean;
  @LevelOpt('node: log level of the TCP flags filter') tcp_flags_log_level?: string;
  @BoolOpt('node: nftables based firewall (tech preview)') nftables?: boolean;
  @BoolOpt('node: log conntrack information') log_nf_conntrack?: boolean;
  @BoolOpt('node: allow invalid packets on connection tracking') nf_conntrack_allow_invalid?: boolean;
  @IntOpt(32768, undefined, 'node: maximum tracked connections') nf_conntrack_max?: number;
  @IntOpt(7875, undefined, 'node: conntrack established timeout (s)')
  nf_conntrack_tcp_timeout_established?: number;
  @IntOpt(30, 60, 'node: conntrack SYN_RECV timeout (s)') nf_conntrack_tcp_timeout_syn_recv?: number;
  @Opt(
    IsString(),
    Matches(
      /^$|^(?:amanda|ftp|irc|netbios-ns|pptp|sane|sip|snmp|tftp)(?:,(?:amanda|ftp|irc|netbios-ns|pptp|sane|sip|snmp|tftp))*$/,
    ),
    JSONSchema({
      description:
        'node: conntrack helpers, comma-separated (amanda, ftp, irc, netbios-ns, pptp, sane, sip, snmp, tftp)',
    }),
  )
  nf_conntrack_helpers?: string;
  @BoolOpt('node: SYN flood protection') protection_synflood?: boolean;
  @IntOpt(0, undefined, 'node: SYN flood rate (SYN/s per source)') protection_synflood_rate?: number;
  @IntOpt(0, undefined, 'node: SYN flood burst per source') protection_synflood_burst?: number;
  @BoolOpt('guest: allow DHCP') dhcp?: boolean;
  @BoolOpt("guest: default IP filter (only the guest's own addresses)") ipfilter?: boolean;
  @BoolOpt('guest: MAC address filter (default true)') macfilter?: boolean;
  @BoolOpt('guest: allow sending router advertisements') radv?: boolean;
}

export class FirewallOptionsResultDto extends FirewallScopeResultDto {
  @ValidateNested() @Type(() => FirewallOptionsDto) options: FirewallOptionsDto;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Digest of the options: pass it to set_firewall_options' })
  digest?: string;
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'set_firewall_options: what the call changed' })
  changes?: string[];
}

export class SetFirewallOptionsBodyDto extends FirewallOptionsDto {
  @Opt(
    IsArray(),
    IsString({ each: true }),
    Matches(/^[a-z_]+$/, { each: true }),
    JSONSchema({ description: 'Options to reset to their PVE default, e.g. ["log_level_in"]' }),
  )
  reset?: string[];
  @Opt(
    IsBoolean(),
    JSONSchema({
      description:
        "Enable the firewall even though it would block the node's management access (8006/tcp, 22/tcp); default false",
    }),
  )
  force?: boolean;
  @Opt(
    IsString(),
    Matches(DIGEST),
    JSONSchema({
      description: 'The digest get_firewall_options returned: refused when the options changed since',
    }),
  )
  digest?: string;
}

export class FirewallAliasDto {
  @IsString() name: string;
  @IsString() @JSONSchema({ description: 'The address or network it stands for' }) cidr: string;
  @IsOptional() @IsString() comment?: string;
}

export class FirewallAliasListDto extends FirewallScopeResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => FirewallAliasDto) aliases: FirewallAliasDto[];
}

export class FirewallIpsetEntryDto {
  @IsString() cidr: string;
  @IsBoolean()
  @JSONSchema({ description: 'An exception: this address never matches the set' })
  nomatch: boolean;
  @IsOptional() @IsString() comment?: string;
}

export class FirewallIpsetDto {
  @IsString() @JSONSchema({ description: "Refer to it in rules as '+name'" }) name: string;
  @IsOptional() @IsString() comment?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FirewallIpsetEntryDto)
  entries: FirewallIpsetEntryDto[];
}

export class FirewallIpsetListDto extends FirewallScopeResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => FirewallIpsetDto) ipsets: FirewallIpsetDto[];
}
