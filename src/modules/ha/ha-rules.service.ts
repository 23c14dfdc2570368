import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { ProxmoxClient, PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type {
  AddHaRuleBodyDto,
  HaRuleChangeDto,
  HaRuleListDto,
  HaRuleListQueryDto,
  HaRuleRemovedDto,
  HaRuleType,
  UpdateHaRuleBodyDto,
} from './dto/ha-rules.dto.js';
import { sidVmid, toHaRule, type PveHaResource, type PveHaRule } from './ha.mapper.js';

const RULES = '/cluster/ha/rules';
const list = (text: string | undefined): string[] => (text ?? '').split(/[,;\s]+/).filter(Boolean);
const truthy = (v: unknown): boolean => v === true || v === 1 || v === '1';

/** Which fields belong to which rule type (PVE's section config refuses the others). */
const ONLY_FOR: Record<string, HaRuleType> = {
  nodes: 'node-affinity',
  strict: 'node-affinity',
  affinity: 'resource-affinity',
};

/** What add and update check the same way: the rule's resources and nodes as PVE will hold them. */
interface RuleShape {
  rule: string;
  type: HaRuleType;
  resources: string[];
  nodes?: string[];
  disabled: boolean;
}

/**
 * PVE 9 HA rules (/cluster/ha/rules; they replace HA groups): node-affinity (where resources run, by node
 * priority) and resource-affinity (resources together or apart). Synchronous config writes like the resources.
 * Every refusal PVE would give (unknown resources or nodes, a rule id in use, a resource in two node-affinity
 * rules, fields of the other rule type, a resource-affinity rule with one resource) is checked first, so a refused
 * call never reaches PVE nor an operator's approval.
 */
@Injectable()
export class HaRulesService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
  ) {}

  async list(q: HaRuleListQueryDto): Promise<HaRuleListDto> {
    const { config, client } = this.gateway.resolve(q.target);
    let rules = await this.rules(client);
    if (q.type) rules = rules.filter((r) => r.type === q.type);
    if (q.vmid !== undefined)
      rules = rules.filter((r) => list(r.resources).some((sid) => sidVmid(sid) === q.vmid));
    return {
      target: config.name,
      rules: rules.map(toHaRule),
      ...(rules[0]?.digest ? { digest: rules[0].digest } : {}),
    };
  }

  async add(dto: AddHaRuleBodyDto, target?: string): Promise<HaRuleChangeDto> {
    assertTypeFields(dto.type, dto);
    const { config, client } = this.gateway.resolve(target);
    const [rules, rows] = await Promise.all([this.rules(client), this.resourceRows(client)]);
    if (rules.some((r) => r.rule === dto.rule)) {
      throw new DomainError('CONFLICT', `HA rule ${dto.rule} already exists`, {
        hint: 'update_ha_rule changes it; choose another rule ID for a new rule.',
        details: { field: 'rule' },
      });
    }
    const shape: RuleShape = {
      rule: dto.rule,
      type: dto.type,
      resources: resolveResources(dto.resources, rows),
      ...(dto.nodes ? { nodes: dto.nodes } : {}),
      disabled: dto.disabled === true,
    };
    if (dto.type === 'node-affinity' && !dto.nodes) {
      throw new DomainError('VALIDATION', 'nodes: a node-affinity rule needs its nodes', {
        hint: 'Pass nodes, each `node` or `node:priority`, e.g. ["pve1:2", "pve2"].',
        details: { field: 'nodes' },
      });
    }
    if (dto.type === 'resource-affinity' && !dto.affinity) {
      throw new DomainError(
        'VALIDATION',
        'affinity: a resource-affinity rule needs affinity positive or negative',
        {
          hint: 'positive keeps the resources on one node, negative on separate nodes.',
          details: { field: 'affinity' },
        },
      );
    }
    await this.assertShape(shape, rules, target);
    const params: PveParams = {
      rule: dto.rule,
      type: dto.type,
      resources: shape.resources.join(','),
      nodes: dto.nodes?.join(','),
      strict: dto.strict,
      affinity: dto.affinity,
      disable: dto.disabled || undefined,
      comment: dto.comment || undefined,
    };
    await client.post(RULES, params);
    return {
      target: config.name,
      rule: toHaRule(await client.get<PveHaRule>(pvePath`/cluster/ha/rules/${dto.rule}`)),
      changes: [`created ${dto.type} rule ${dto.rule}${shape.disabled ? ' (disabled)' : ''}`],
    };
  }

  async update(id: string, dto: UpdateHaRuleBodyDto, target?: string): Promise<HaRuleChangeDto> {
    const fields = ['resources', 'nodes', 'strict', 'affinity', 'disabled', 'comment'] as const;
    if (fields.every((f) => dto[f] === undefined)) {
      throw new DomainError('VALIDATION', 'Nothing to change', {
        hint: `Pass one of ${fields.join(', ')}.`,
      });
    }
    const { config, client } = this.gateway.resolve(target);
    const [rules, rows] = await Promise.all([this.rules(client), this.resourceRows(client)]);
    const current = rules.find((r) => r.rule === id);
    if (!current) throw notFound(id, rules);
    const type = current.type as HaRuleType;
    assertTypeFields(type, dto);
    if (dto.digest !== undefined && current.digest !== undefined && dto.digest !== current.digest) {
      throw new DomainError('CONFLICT', 'The HA rules changed since the digest was read', {
        hint: 'Read list_ha_rules again and retry with its digest.',
      });
    }
    const resources = dto.resources ? resolveResources(dto.resources, rows) : list(current.resources);
    const shape: RuleShape = {
      rule: id,
      type,
      resources,
      ...(type === 'node-affinity' ? { nodes: dto.nodes ?? list(current.nodes) } : {}),
      disabled: dto.disabled ?? truthy(current.disable),
    };
    await this.assertShape(shape, rules, target);
    const params: PveParams = { type, ...(current.digest ? { digest: dto.digest ?? current.digest } : {}) };
    const changes: string[] = [];
    if (dto.resources) {
      params.resources = resources.join(',');
      changes.push(`set resources to ${resources.join(', ')}`);
    }
    if (dto.nodes) {
      params.nodes = dto.nodes.join(',');
      changes.push(`set nodes to ${dto.nodes.join(', ')}`);
    }
    if (dto.strict !== undefined) {
      params.strict = dto.strict;
      changes.push(`set strict to ${dto.strict}`);
    }
    if (dto.affinity) {
      params.affinity = dto.affinity;
      changes.push(`set affinity to ${dto.affinity}`);
    }
    const deletes: string[] = [];
    if (dto.disabled === true) {
      params.disable = true;
      changes.push('disabled the rule');
    } else if (dto.disabled === false) {
      deletes.push('disable');
      changes.push('enabled the rule');
    }
    if (dto.comment === '') {
      deletes.push('comment');
      changes.push('cleared the comment');
    } else if (dto.comment !== undefined) {
      params.comment = dto.comment;
      changes.push('set the comment');
    }
    if (deletes.length) params.delete = deletes.join(',');
    await client.put(pvePath`/cluster/ha/rules/${id}`, params);
    return {
      target: config.name,
      rule: toHaRule(await client.get<PveHaRule>(pvePath`/cluster/ha/rules/${id}`)),
      changes,
    };
  }

  async remove(id: string, target?: string): Promise<HaRuleRemovedDto> {
    const { config, client } = this.gateway.resolve(target);
    const rules = await this.rules(client);
    if (!rules.some((r) => r.rule === id)) throw notFound(id, rules);
    await client.delete(pvePath`/cluster/ha/rules/${id}`);
    return { target: config.name, rule: id, removed: true };
  }

  /** The nodes exist; a node-affinity rule's resources are in no other enabled one; resource affinity needs two. */
  private async assertShape(shape: RuleShape, rules: readonly PveHaRule[], target?: string): Promise<void> {
    if (shape.nodes) {
      const names = shape.nodes.map((n) => n.split(':')[0]);
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice) {
        throw new DomainError('VALIDATION', `nodes: node ${twice} is listed twice`, {
          hint: 'List each node once, with its priority (`node:priority`).',
          details: { field: 'nodes' },
        });
      }
      const known = (await this.inventory.clusterResources('node', target)).items.map((n) => String(n.node));
      const unknown = names.filter((n) => !known.includes(n));
      if (unknown.length) {
        throw new DomainError(
          'NOT_FOUND',
          `nodes: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not part of the cluster`,
          {
            hint: `Nodes: ${known.join(', ')}.`,
            details: { field: 'nodes', unknown },
          },
        );
      }
    }
    if (shape.type === 'resource-affinity' && shape.resources.length < 2) {
      throw new DomainError(
        'VALIDATION',
        'resources: a resource-affinity rule needs at least two resources',
        {
          hint: 'Name the HA resources to keep together or apart.',
          details: { field: 'resources' },
        },
      );
    }
    if (shape.type === 'node-affinity' && !shape.disabled) {
      for (const other of rules) {
        if (other.rule === shape.rule || other.type !== 'node-affinity' || truthy(other.disable)) continue;
        const shared = shape.resources.filter((sid) => list(other.resources).includes(sid));
        if (shared.length) {
          throw new DomainError(
            'CONFLICT',
            `${shared.join(', ')} ${shared.length > 1 ? 'are' : 'is'} already in node-affinity rule ${other.rule}: a resource may be in one enabled node-affinity rule only`,
            {
              hint: `Change rule ${other.rule} instead (update_ha_rule), or disable one of them.`,
              details: { field: 'resources', rule: other.rule, resources: shared },
            },
          );
        }
      }
    }
  }

  private async rules(client: ProxmoxClient): Promise<PveHaRule[]> {
    const rows = (await client.get<PveHaRule[] | null>(RULES)) ?? [];
    return [...rows].sort((a, b) => Number(a.order ?? 0) - Number(b.order ?? 0));
  }

  private async resourceRows(client: ProxmoxClient): Promise<PveHaResource[]> {
    return (await client.get<PveHaResource[] | null>('/cluster/ha/resources')) ?? [];
  }
}

/** A field of the other rule type is refused, naming it and the type it belongs to. */
function assertTypeFields(type: HaRuleType, dto: object): void {
  for (const [field, owner] of Object.entries(ONLY_FOR)) {
    if ((dto as Record<string, unknown>)[field] !== undefined && owner !== type) {
      throw new DomainError(
        'VALIDATION',
        `${field}: only a ${owner} rule has ${field}; this is a ${type} rule`,
        {
          hint:
            type === 'node-affinity'
              ? 'A node-affinity rule takes nodes and strict.'
              : 'A resource-affinity rule takes affinity (positive or negative).',
          details: { field },
        },
      );
    }
  }
}

/** `vm:100`, `ct:101` or a bare vmid → the HA resource ID; every one must be an HA resource. */
function resolveResources(entries: readonly string[], rows: readonly PveHaResource[]): string[] {
  const out: string[] = [];
  const unknown: string[] = [];
  for (const entry of entries) {
    const row = /^\d+$/.test(entry)
      ? rows.find((r) => sidVmid(r.sid) === Number(entry))
      : rows.find((r) => r.sid === entry);
    if (row) out.push(row.sid);
    else unknown.push(entry);
  }
  if (unknown.length) {
    throw new DomainError(
      'NOT_FOUND',
      `resources: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not an HA resource`,
      {
        hint: rows.length
          ? `HA resources: ${rows.map((r) => r.sid).join(', ')}. add_ha_resource puts a guest under HA.`
          : 'There are no HA resources. add_ha_resource puts a guest under HA.',
        details: { field: 'resources', unknown },
      },
    );
  }
  const twice = out.find((sid, i) => out.indexOf(sid) !== i);
  if (twice) {
    throw new DomainError('VALIDATION', `resources: ${twice} is listed twice`, {
      details: { field: 'resources' },
    });
  }
  return out;
}

function notFound(id: string, rules: readonly PveHaRule[]): DomainError {
  return new DomainError('NOT_FOUND', `No HA rule ${id}`, {
    hint: rules.length
      ? `HA rules: ${rules.map((r) => r.rule).join(', ')}.`
      : 'There are no HA rules. add_ha_rule creates one.',
    details: { field: 'rule' },
  });
}
