import type {
  FirewallAliasListDto,
  FirewallIpsetListDto,
  FirewallOptionsResultDto,
  FirewallRuleChangeDto,
  FirewallRuleDeletedDto,
  FirewallRuleDto,
  FirewallRuleListDto,
  FirewallScopeResultDto,
} from './dto/firewall.dto.js';

const where = (r: FirewallScopeResultDto): string =>
  r.scope === 'cluster'
    ? 'Cluster firewall'
    : r.scope === 'node'
      ? `Host firewall of ${r.node}`
      : `Firewall of ${r.scope === 'vm' ? 'VM' : 'container'} ${r.vmid} (on ${r.node})`;

export const ruleText = (r: FirewallRuleDto): string =>
  `${r.pos}: ${r.enable ? '' : '[disabled] '}${r.type} ${r.action}` +
  (r.macro ? ` macro ${r.macro}` : '') +
  (r.proto ? ` ${r.proto}` : '') +
  (r.dport ? ` dport ${r.dport}` : '') +
  (r.sport ? ` sport ${r.sport}` : '') +
  (r.icmp_type ? ` ${r.icmp_type}` : '') +
  (r.source ? ` from ${r.source}` : '') +
  (r.dest ? ` to ${r.dest}` : '') +
  (r.iface ? ` on ${r.iface}` : '') +
  (r.log && r.log !== 'nolog' ? ` log ${r.log}` : '') +
  (r.comment ? ` # ${r.comment}` : '');

export const firewallRulesText = (r: FirewallRuleListDto): string =>
  r.rules.length === 0
    ? `${where(r)}: no rules.`
    : [`${where(r)}: ${r.rules.length} rules (first match wins)`, ...r.rules.map(ruleText)].join('\n');

export const firewallRuleChangeText = (r: FirewallRuleChangeDto): string =>
  [`${where(r)}:`, ...r.changes.map((c) => `- ${c}`), ruleText(r.rule)].join('\n');

export const firewallRuleDeletedText = (r: FirewallRuleDeletedDto): string =>
  `${where(r)}: removed rule ${ruleText(r.rule)}; the rules after it moved up one position`;

export const firewallOptionsText = (r: FirewallOptionsResultDto): string => {
  const lines = Object.entries(r.options).map(([k, v]) => `${k}: ${String(v)}`);
  return [
    `${where(r)} options${r.options.enable === undefined ? '' : `: firewall ${r.options.enable ? 'on' : 'off'}`}`,
    ...(r.changes ?? []).map((c) => `- ${c}`),
    ...(lines.length ? lines : ['(all at their defaults)']),
  ].join('\n');
};

export const firewallAliasesText = (r: FirewallAliasListDto): string =>
  r.aliases.length === 0
    ? `${where(r)}: no aliases.`
    : [
        `${where(r)}: ${r.aliases.length} aliases`,
        ...r.aliases.map((a) => `- ${a.name} = ${a.cidr}${a.comment ? ` (${a.comment})` : ''}`),
      ].join('\n');

export const firewallIpsetsText = (r: FirewallIpsetListDto): string =>
  r.ipsets.length === 0
    ? `${where(r)}: no ipsets.`
    : [
        `${where(r)}: ${r.ipsets.length} ipsets`,
        ...r.ipsets.map(
          (s) =>
            `- +${s.name}${s.comment ? ` (${s.comment})` : ''}: ` +
            (s.entries.length
              ? s.entries.map((e) => `${e.nomatch ? '!' : ''}${e.cidr}`).join(', ')
              : 'empty'),
        ),
      ].join('\n');
