import type {
  HaResourceChangeDto,
  HaResourceDto,
  HaResourceListDto,
  HaResourceRemovedDto,
  HaRuleDto,
  HaStatusDto,
} from './dto/ha.dto.js';

const ruleText = (r: HaRuleDto): string =>
  r.type === 'node-affinity'
    ? `${r.rule} (${r.strict ? 'only on' : 'prefers'} ${r.nodes?.join(' ') ?? ''}${r.disabled ? ', disabled' : ''})`
    : `${r.rule} (${r.affinity === 'negative' ? 'apart from' : 'together with'} ${r.resources?.join(' ') ?? ''}${r.disabled ? ', disabled' : ''})`;

const resourceLine = (r: HaResourceDto): string =>
  `- ${r.sid}${r.name ? ` (${r.name})` : ''}${r.node ? ` on ${r.node}` : ''}: requested ${r.state}` +
  `${r.ha_state ? `, HA state ${r.ha_state}` : ''}${r.status ? `, guest ${r.status}` : ''}` +
  `; max_restart ${r.max_restart}, max_relocate ${r.max_relocate}${r.failback ? '' : ', no failback'}` +
  (r.comment ? ` (${r.comment})` : '') +
  (r.rules?.length ? `; rules: ${r.rules.map(ruleText).join(', ')}` : '');

export const haStatusText = (r: HaStatusDto): string =>
  [
    `Quorum: ${r.quorate ? 'OK' : r.quorum}`,
    r.manager_node
      ? `HA manager: ${r.manager_node} (${r.manager_status ?? 'unknown'})${r.fencing ? `, fencing ${r.fencing}` : ''}`
      : 'HA manager: none (no HA resources)',
    ...r.nodes.map((n) => `- node ${n.node}: ${n.status}${n.lrm ? `, LRM ${n.lrm}` : ''}`),
    ...(r.services.length
      ? r.services.map(
          (s) =>
            `- ${s.sid} on ${s.node}: ${s.state}${s.request_state ? ` (requested ${s.request_state})` : ''}`,
        )
      : ['No HA resources.']),
  ].join('\n');

export const haResourcesText = (r: HaResourceListDto): string =>
  r.resources.length === 0
    ? 'No HA resources.'
    : [`HA resources (${r.resources.length})`, ...r.resources.map(resourceLine)].join('\n');

export const haResourceChangeText = (r: HaResourceChangeDto): string =>
  [...r.changes, '', resourceLine(r.resource)].join('\n');

export const haResourceRemovedText = (r: HaResourceRemovedDto): string =>
  `${r.sid} is no longer HA-managed (the guest itself is unchanged)`;
