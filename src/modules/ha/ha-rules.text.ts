import type { HaRuleDto } from './dto/ha.dto.js';
import type { HaRuleChangeDto, HaRuleListDto, HaRuleRemovedDto } from './dto/ha-rules.dto.js';

const ruleLine = (r: HaRuleDto): string =>
  `- ${r.rule} (${r.type}${r.disabled ? ', disabled' : ''}): ` +
  (r.type === 'node-affinity'
    ? `${r.resources?.join(', ') ?? ''} ${r.strict ? 'only on' : 'prefer'} ${r.nodes?.join(', ') ?? ''}`
    : `${r.resources?.join(', ') ?? ''} kept ${r.affinity === 'negative' ? 'apart' : 'together'}`) +
  (r.comment ? ` (${r.comment})` : '');

export const haRulesText = (r: HaRuleListDto): string =>
  r.rules.length === 0
    ? 'No HA rules.'
    : [`HA rules (${r.rules.length})`, ...r.rules.map(ruleLine)].join('\n');

export const haRuleChangeText = (r: HaRuleChangeDto): string =>
  [...r.changes, '', ruleLine(r.rule)].join('\n');

export const haRuleRemovedText = (r: HaRuleRemovedDto): string => `HA rule ${r.rule} deleted`;
