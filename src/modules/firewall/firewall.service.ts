import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { ProxmoxClient, PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type {
  AddFirewallRuleBodyDto,
  FirewallAliasListDto,
  FirewallIpsetListDto,
  FirewallOptionsDto,
  FirewallOptionsResultDto,
  FirewallRuleChangeDto,
  FirewallRuleDeletedDto,
  FirewallRuleListDto,
  FirewallScope,
  FirewallScopeQueryDto,
  FirewallScopeResultDto,
  SetFirewallOptionsBodyDto,
  UpdateFirewallRuleBodyDto,
} from './dto/firewall.dto.js';
import { blockedManagementPorts, MANAGEMENT_PORT_LABELS } from './firewall-lockout.js';
import { checkRule, type RuleFields } from './firewall-rule-check.js';
import {
  OPTION_TABLE,
  optionsOf,
  toAlias,
  toIpset,
  toOptions,
  toRule,
  type PveFwAlias,
  type PveFwIpset,
  type PveFwIpsetEntry,
  type PveFwOptions,
  type PveFwRule,
} from './firewall.mapper.js';

/** One resolved firewall: its target, client, API base path and a label for messages. */
interface Fw {
  target: string;
  client: ProxmoxClient;
  scope: FirewallScope;
  node?: string;
  vmid?: number;
  base: string;
  label: string;
}

/** The rule fields a caller can set, as PVE names them. */
const RULE_FIELDS = [
  'macro',
  'proto',
  'dport',
  'sport',
  'source',
  'dest',
  'iface',
  'log',
  'comment',
] as const;

const MODIFIED = /detected modified configuration/;

/**
 * Firewall rules, options, aliases and ipsets of the cluster, a node or a guest, one `scope` argument for all.
 * PVE's firewall calls are synchronous (they rewrite a .fw file; no task, so no job). Rule positions and PVE's
 * digest guard concurrent edits: every change sends a digest (the caller's, else the one read just before), so a
 * list changed in between is refused by PVE instead of the wrong rule being changed. Everything PVE would refuse
 * is checked first, so a refused call never reaches PVE nor an operator's approval.
 */
@Injectable()
export class FirewallService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
  ) {}

  async listRules(q: FirewallScopeQueryDto): Promise<FirewallRuleListDto> {
    const fw = await this.resolve(q);
    const rows = await this.rulesOf(fw);
    return { ...head(fw), rules: rows.map(toRule), ...digestOf(rows) };
  }

  async addRule(q: FirewallScopeQueryDto, b: AddFirewallRuleBodyDto): Promise<FirewallRuleChangeDto> {
    const fw = await this.resolve(q, true);
    const fields: RuleFields = { type: b.type, action: b.action, icmp_type: b.icmp_type };
    for (const key of RULE_FIELDS) if (b[key] !== undefined) fields[key] = b[key];
    const rows = await this.rulesOf(fw);
    assertDigest(fw, rows, b.digest);
    await this.check(fw, fields);
    const params: PveParams = { type: b.type, action: b.action, enable: b.enable === false ? 0 : 1 };
    for (const key of RULE_FIELDS) if (b[key] !== undefined) params[key] = b[key];
    if (b.icmp_type !== undefined) params['icmp-type'] = b.icmp_type;
    if (b.digest !== undefined) params.digest = b.digest;
    await this.guarded(fw, () => fw.client.post(`${fw.base}/rules`, params));
    // PVE puts a new rule first; moving it is a second call, guarded by the digest of the list with it
    let after = await this.rulesOf(fw);
    const pos = Math.min(b.pos ?? 0, after.length - 1);
    const changes = [`added rule ${ruleLine(toRule(after[0]))} to ${fw.label}`];
    if (pos > 0) {
      const length = after.length;
      const digest = after[0].digest;
      await this.guarded(fw, () =>
        fw.client.put(`${fw.base}/rules/0`, {
          moveto: pveMoveto(0, pos, length),
          ...(digest ? { digest } : {}),
        }),
      ).catch((e: unknown) => {
        // the rule is in place (first); say so rather than leave the caller guessing
        throw new DomainError(
          'CONFLICT',
          `Added the rule to ${fw.label} at position 0, but could not move it to position ${pos}: ${e instanceof Error ? e.message : String(e)}`,
          {
            hint: 'list_firewall_rules shows where it is; update_firewall_rule with moveto moves it.',
            cause: e,
          },
        );
      });
      after = await this.rulesOf(fw);
      changes.push(`moved it to position ${pos}`);
    } else {
      changes[0] += ' at position 0';
    }
    return { ...head(fw), rule: toRule(after[pos]), changes, ...digestOf(after) };
  }

  async updateRule(
    q: FirewallScopeQueryDto,
    pos: number,
    b: UpdateFirewallRuleBodyDto,
  ): Promise<FirewallRuleChangeDto> {
    const given = [...RULE_FIELDS, 'type', 'action', 'icmp_type', 'enable'].filter(
      (k) => b[k as keyof UpdateFirewallRuleBodyDto] !== undefined,
    );
    if (b.moveto === undefined && given.length === 0) {
      throw new DomainError('VALIDATION', 'Nothing to change', {
        hint: `Pass a rule field (type, action, macro, proto, dport, sport, source, dest, iface, log, icmp_type, enable, comment) or moveto.`,
      });
    }
    if (b.moveto !== undefined && given.length > 0) {
      throw new DomainError(
        'VALIDATION',
        `moveto: a move is a call of its own (PVE ignores other fields when moving); got also ${given.join(', ')}`,
        { hint: 'Change the fields in one update_firewall_rule call and move the rule in another.' },
      );
    }
    const fw = await this.resolve(q, true);
    const rows = await this.rulesOf(fw);
    const current = ruleAt(fw, rows, pos);
    const digest = assertDigest(fw, rows, b.digest);
    if (b.moveto !== undefined) return this.move(fw, rows, pos, b.moveto, digest);

    const merged: RuleFields = {
      type: b.type ?? current.type,
      action: b.action ?? current.action,
      icmp_type: b.icmp_type === '' ? undefined : (b.icmp_type ?? current['icmp-type']),
    };
    for (const key of RULE_FIELDS) {
      const value = b[key] === undefined ? current[key] : b[key];
      if (value !== undefined && value !== '') merged[key] = value;
    }
    await this.check(fw, merged);
    const params: PveParams = { type: merged.type, ...(digest ? { digest } : {}) };
    const removed: string[] = [];
    const changes: string[] = [];
    const set = (pveKey: string, value: string | undefined, label = pveKey) => {
      if (value === undefined) return;
      if (value === '') {
        removed.push(pveKey);
        changes.push(`removed ${label}`);
      } else {
        params[pveKey] = value;
        changes.push(`set ${label} to ${value}`);
      }
    };
    if (b.type !== undefined) changes.push(`set type to ${b.type}`);
    set('action', b.action);
    for (const key of RULE_FIELDS) set(key, b[key]);
    set('icmp-type', b.icmp_type, 'icmp_type');
    if (b.enable !== undefined) {
      params.enable = b.enable ? 1 : 0;
      changes.push(b.enable ? 'enabled the rule' : 'disabled the rule');
    }
    if (removed.length) params.delete = removed.join(',');
    await this.guarded(fw, () => fw.client.put(`${fw.base}/rules/${pos}`, params));
    const after = await this.rulesOf(fw);
    return { ...head(fw), rule: toRule(after[pos]), changes, ...digestOf(after) };
  }

  async deleteRule(q: FirewallScopeQueryDto, pos: number, digest?: string): Promise<FirewallRuleDeletedDto> {
    const fw = await this.resolve(q, true);
    const rows = await this.rulesOf(fw);
    const current = ruleAt(fw, rows, pos);
    const sent = assertDigest(fw, rows, digest);
    await this.guarded(fw, () =>
      fw.client.delete(`${fw.base}/rules/${pos}`, sent ? { digest: sent } : undefined),
    );
    return { ...head(fw), pos, removed: true, rule: toRule(current) };
  }

  async getOptions(q: FirewallScopeQueryDto): Promise<FirewallOptionsResultDto> {
    const fw = await this.resolve(q);
    const raw = await this.optionsRaw(fw);
    return { ...head(fw), options: toOptions(fw.scope, raw), ...(raw.digest ? { digest: raw.digest } : {}) };
  }

  async setOptions(
    q: FirewallScopeQueryDto,
    b: SetFirewallOptionsBodyDto,
  ): Promise<FirewallOptionsResultDto> {
    const keys = Object.keys(OPTION_TABLE) as Array<keyof FirewallOptionsDto>;
    const given = keys.filter((k) => b[k] !== undefined);
    const reset = [...new Set(b.reset ?? [])];
    if (!given.length && !reset.length) {
      throw new DomainError('VALIDATION', 'Nothing to change', {
        hint: 'Pass an option (enable, policy_in, …) or reset: [names].',
      });
    }
    const allowed = optionsOf(q.scope);
    const foreign = [...given, ...reset].filter((k) => !allowed.includes(k));
    if (foreign.length) {
      throw new DomainError(
        'VALIDATION',
        `${foreign.join(', ')}: not an option of the ${q.scope} firewall; it takes ${allowed.join(', ')}`,
      );
    }
    const both = reset.filter((k) => given.includes(k as keyof FirewallOptionsDto));
    if (both.length)
      throw new DomainError('VALIDATION', `reset: ${both.join(', ')} is also set in this call`);
    const fw = await this.resolve(q, true);
    const raw = await this.optionsRaw(fw);
    if (b.digest !== undefined && b.digest !== raw.digest)
      throw changedSince(fw, 'options', 'get_firewall_options');
    if (!b.force) await this.assertManagementAccess(fw, raw, b, reset);

    const params: PveParams = {};
    const changes: string[] = [];
    for (const key of given) {
      const value = b[key];
      params[key] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
      changes.push(`set ${key} to ${String(value)}`);
    }
    if (reset.length) {
      params.delete = reset.join(',');
      changes.push(...reset.map((k) => `reset ${k} to its default`));
    }
    const digest = b.digest ?? raw.digest;
    if (digest) params.digest = digest;
    await this.guarded(fw, () => fw.client.put(`${fw.base}/options`, params));
    const now = await this.optionsRaw(fw);
    return {
      ...head(fw),
      options: toOptions(fw.scope, now),
      ...(now.digest ? { digest: now.digest } : {}),
      changes,
    };
  }

  async listAliases(q: FirewallScopeQueryDto): Promise<FirewallAliasListDto> {
    const fw = await this.resolve(noHostLevel(q, 'aliases'));
    const rows = (await fw.client.get<PveFwAlias[] | null>(`${fw.base}/aliases`)) ?? [];
    return { ...head(fw), aliases: rows.map(toAlias) };
  }

  async listIpsets(q: FirewallScopeQueryDto): Promise<FirewallIpsetListDto> {
    const fw = await this.resolve(noHostLevel(q, 'ipsets'));
    const sets = (await fw.client.get<PveFwIpset[] | null>(`${fw.base}/ipset`)) ?? [];
    const entries = await Promise.all(
      sets.map((s) => fw.client.get<PveFwIpsetEntry[] | null>(`${fw.base}${pvePath`/ipset/${s.name}`}`)),
    );
    return { ...head(fw), ipsets: sets.map((s, i) => toIpset(s, entries[i] ?? [])) };
  }

  // ---------------------------------------------------------------- helpers

  /** Where the scope's firewall lives; a guest's node comes from the inventory. */
  private async resolve(q: FirewallScopeQueryDto, fresh = false): Promise<Fw> {
    const { config, client } = this.gateway.resolve(q.target);
    const base = { target: config.name, client, scope: q.scope };
    if (q.scope === 'cluster') {
      if (q.node !== undefined) {
        throw new DomainError(
          'VALIDATION',
          'node: not used with scope cluster (the cluster firewall covers every node); use scope node for one host',
        );
      }
      if (q.vmid !== undefined) {
        throw new DomainError('VALIDATION', 'vmid: not used with scope cluster; use scope vm or container');
      }
      return { ...base, base: '/cluster/firewall', label: 'the cluster firewall' };
    }
    if (q.scope === 'node') {
      if (q.vmid !== undefined) {
        throw new DomainError('VALIDATION', 'vmid: not used with scope node; use scope vm or container');
      }
      if (q.node === undefined) {
        throw new DomainError('VALIDATION', 'node: required with scope node (get_nodes lists them)');
      }
      const nodes = await this.inventory.clusterResources('node', q.target, { fresh });
      if (!nodes.items.some((n) => n.node === q.node)) {
        throw new DomainError('NOT_FOUND', `No node '${q.node}' in target ${config.name}`, {
          hint: `Nodes: ${nodes.items.map((n) => n.node).join(', ')}`,
        });
      }
      return {
        ...base,
        node: q.node,
        base: pvePath`/nodes/${q.node}/firewall`,
        label: `the host firewall of ${q.node}`,
      };
    }
    if (q.vmid === undefined) {
      throw new DomainError('VALIDATION', `vmid: required with scope ${q.scope}`);
    }
    const guests = await this.inventory.clusterResources('vm', q.target, { fresh });
    const guest = guests.items.find((g) => Number(g.vmid) === q.vmid);
    if (!guest?.node) {
      throw new DomainError('NOT_FOUND', `No VM or container with vmid ${q.vmid}`, {
        hint: 'get_vms and get_containers list the guests.',
      });
    }
    const kind = guest.type === 'lxc' ? 'container' : 'vm';
    if (kind !== q.scope) {
      throw new DomainError(
        'VALIDATION',
        `scope: guest ${q.vmid} is a ${kind === 'vm' ? 'VM' : 'container'}; use scope ${kind}`,
      );
    }
    if (q.node !== undefined && q.node !== guest.node) {
      throw new DomainError('VALIDATION', `node: guest ${q.vmid} is on ${guest.node}, not ${q.node}`, {
        hint: 'Leave node out: it is looked up.',
      });
    }
    const type = kind === 'vm' ? 'qemu' : 'lxc';
    const name = guest.name ? ` (${guest.name})` : '';
    return {
      ...base,
      node: guest.node,
      vmid: q.vmid,
      base: pvePath`/nodes/${guest.node}/${type}/${q.vmid}/firewall`,
      label: `the firewall of ${kind === 'vm' ? 'VM' : 'container'} ${q.vmid}${name}`,
    };
  }

  private async rulesOf(fw: Pick<Fw, 'client' | 'base'>): Promise<PveFwRule[]> {
    return (await fw.client.get<PveFwRule[] | null>(`${fw.base}/rules`)) ?? [];
  }

  private async optionsRaw(fw: Pick<Fw, 'client' | 'base'>): Promise<PveFwOptions> {
    return (await fw.client.get<PveFwOptions | null>(`${fw.base}/options`)) ?? {};
  }

  /** PVE's own digest refusal (a change between our read and our write) is a CONFLICT like ours. */
  private async guarded<T>(fw: Fw, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      if (isDomainError(e) && MODIFIED.test(e.message))
        throw changedSince(fw, 'configuration', 'the list tool');
      throw e;
    }
  }

  /** The rule's references (aliases, ipsets, security groups) must exist where PVE looks them up. */
  private async check(fw: Fw, rule: RuleFields): Promise<void> {
    const refs = [rule.source, rule.dest].filter((v): v is string => v !== undefined).join(',');
    const names = refs.split(',').filter((i) => /^\+?(?:(?:dc|guest)\/)?[A-Za-z]/.test(i));
    const cluster = { client: fw.client, base: '/cluster/firewall' };
    const guestLevel = fw.scope === 'vm' || fw.scope === 'container';
    const read = async (where: Pick<Fw, 'client' | 'base'>) => ({
      aliases: new Set(
        ((await where.client.get<PveFwAlias[] | null>(`${where.base}/aliases`)) ?? []).map((a) => a.name),
      ),
      ipsets: new Set(
        ((await where.client.get<PveFwIpset[] | null>(`${where.base}/ipset`)) ?? []).map((s) => s.name),
      ),
    });
    const [dc, guest, groups] = await Promise.all([
      names.length ? read(cluster) : undefined,
      names.length && guestLevel ? read(fw) : undefined,
      rule.type === 'group'
        ? fw.client.get<Array<{ group: string }> | null>('/cluster/firewall/groups')
        : undefined,
    ]);
    const errors = checkRule(rule, {
      guestLevel,
      cluster: dc,
      guest,
      groups: groups ? groups.map((g) => g.group) : undefined,
    });
    if (errors.length) {
      throw new DomainError('VALIDATION', `Invalid rule for ${fw.label}: ${errors.join('; ')}`, {
        hint: 'list_firewall_aliases and list_firewall_ipsets show what source and dest can name.',
        details: { errors },
      });
    }
  }

  private async move(
    fw: Fw,
    rows: PveFwRule[],
    pos: number,
    moveto: number,
    digest: string | undefined,
  ): Promise<FirewallRuleChangeDto> {
    if (moveto >= rows.length) {
      throw new DomainError(
        'VALIDATION',
        `moveto: must be 0-${rows.length - 1} (${fw.label} has ${rows.length} rules)`,
      );
    }
    if (moveto !== pos) {
      await this.guarded(fw, () =>
        fw.client.put(`${fw.base}/rules/${pos}`, {
          moveto: pveMoveto(pos, moveto, rows.length),
          ...(digest ? { digest } : {}),
        }),
      );
    }
    const after = await this.rulesOf(fw);
    return {
      ...head(fw),
      rule: toRule(after[moveto]),
      changes: [
        moveto === pos
          ? `the rule is already at position ${pos}`
          : `moved the rule from position ${pos} to ${moveto}`,
      ],
      ...digestOf(after),
    };
  }

  /**
   * Refuses a change that turns on (or tightens) a host firewall whose rules do not let the management ports in,
   * on any node it applies to. Host firewalls filter when the cluster firewall is on and the node's own `enable`
   * (default on) is not off; the input policy is the cluster's (default DROP). PVE's built-in management rules
   * admit the `management` ipset (plus the node's local network, which is not counted here: this server, an agent or
   * an admin VPN are often elsewhere), so an explicit `management` ipset or alias counts as access.
   */
  private async assertManagementAccess(
    fw: Fw,
    raw: PveFwOptions,
    b: SetFirewallOptionsBodyDto,
    reset: string[],
  ): Promise<void> {
    if (fw.scope !== 'cluster' && fw.scope !== 'node') return;
    const touched = (k: 'enable' | 'policy_in') => b[k] !== undefined || reset.includes(k);
    if (!touched('enable') && !touched('policy_in')) return;
    const { client } = fw;
    const cluster = { client, base: '/cluster/firewall' };
    const clusterNow = fw.scope === 'cluster' ? raw : await this.optionsRaw(cluster);
    const clusterOpts = toOptions('cluster', clusterNow);
    let nodes: string[];
    let clusterEnabled: boolean;
    let policyIn: string;
    if (fw.scope === 'cluster') {
      clusterEnabled = b.enable ?? (reset.includes('enable') ? false : (clusterOpts.enable ?? false));
      policyIn = b.policy_in ?? (reset.includes('policy_in') ? 'DROP' : (clusterOpts.policy_in ?? 'DROP'));
      const all = await this.inventory.clusterResources('node', fw.target, { fresh: true });
      nodes = all.items.filter((n) => n.status === 'online' && n.node).map((n) => n.node as string);
    } else {
      clusterEnabled = clusterOpts.enable ?? false;
      policyIn = clusterOpts.policy_in ?? 'DROP';
      nodes = [fw.node as string];
    }
    if (!clusterEnabled || policyIn === 'ACCEPT') return;

    const [clusterRules, dcAliases, dcIpsets] = await Promise.all([
      this.rulesOf(cluster),
      client.get<PveFwAlias[] | null>('/cluster/firewall/aliases'),
      client.get<PveFwIpset[] | null>('/cluster/firewall/ipset'),
    ]);
    const managementSet =
      (dcAliases ?? []).some((a) => a.name === 'management') ||
      (dcIpsets ?? []).some((s) => s.name === 'management');
    const blocked: Record<string, string[]> = {};
    for (const node of nodes) {
      const host = { client, base: pvePath`/nodes/${node}/firewall` };
      const hostOpts = node === fw.node ? raw : await this.optionsRaw(host);
      const hostEnabled =
        node === fw.node && fw.scope === 'node'
          ? (b.enable ?? (reset.includes('enable') ? true : (toOptions('node', hostOpts).enable ?? true)))
          : (toOptions('node', hostOpts).enable ?? true);
      if (!hostEnabled) continue;
      const rules = [...clusterRules, ...(await this.rulesOf(host))];
      const groups = new Map<string, PveFwRule[]>();
      for (const name of new Set(rules.filter((r) => r.type === 'group').map((r) => r.action))) {
        groups.set(
          name,
          (await client.get<PveFwRule[] | null>(pvePath`/cluster/firewall/groups/${name}`)) ?? [],
        );
      }
      const ports = blockedManagementPorts({ policyIn, rules, groups, managementSet });
      if (ports.length) blocked[node] = ports;
    }
    const cut = Object.keys(blocked);
    if (!cut.length) return;
    const missing = new Set(Object.values(blocked).flat());
    const ports = MANAGEMENT_PORT_LABELS.filter((p) => missing.has(p));
    throw new DomainError(
      'CONFLICT',
      `Refused: this would cut off management access to ${cut.join(', ')}: with input policy ${policyIn}, no enabled ` +
        `incoming ACCEPT rule at cluster or node level opens ${ports.join(' and ')}, and there is no 'management' ipset`,
      {
        hint:
          'Add the rules first, e.g. add_firewall_rule {scope: "cluster", type: "in", action: "ACCEPT", proto: "tcp", ' +
          'dport: "8006", source: "<admin network>"} and the same for dport 22 (or macro SSH), or define a cluster ipset ' +
          "named 'management' with the admin addresses. (PVE's built-in rules still let the node's own local network " +
          'in; every other client, this server included when it is elsewhere, is cut off.) To enable it anyway, pass ' +
          'force: true.',
        details: { blocked },
      },
    );
  }
}

function head(fw: Fw): FirewallScopeResultDto {
  return {
    target: fw.target,
    scope: fw.scope,
    ...(fw.node !== undefined ? { node: fw.node } : {}),
    ...(fw.vmid !== undefined ? { vmid: fw.vmid } : {}),
  };
}

const digestOf = (rows: PveFwRule[]): { digest?: string } =>
  rows[0]?.digest ? { digest: rows[0].digest } : {};

function changedSince(fw: Fw, what: string, tool: string): DomainError {
  return new DomainError('CONFLICT', `The ${what} of ${fw.label} changed since the digest was read`, {
    hint: `Read it again (${tool === 'the list tool' ? 'list_firewall_rules or get_firewall_options' : tool}) and retry with the new digest.`,
  });
}

/** The caller's digest must still be current; the one to send (the caller's or the current one). */
function assertDigest(fw: Fw, rows: PveFwRule[], digest: string | undefined): string | undefined {
  const current = rows[0]?.digest;
  if (digest !== undefined && digest !== current) throw changedSince(fw, 'rule list', 'list_firewall_rules');
  return digest ?? current;
}

function ruleAt(fw: Fw, rows: PveFwRule[], pos: number): PveFwRule {
  const rule = rows[pos];
  if (!rule) {
    throw new DomainError(
      'NOT_FOUND',
      `No rule at position ${pos} in ${fw.label}: ${rows.length ? `it has ${rows.length} rules (0-${rows.length - 1})` : 'it has no rules'}`,
      { hint: 'list_firewall_rules shows the positions.' },
    );
  }
  return rule;
}

/**
 * PVE's `moveto` takes the rule out and puts it before the rule that was at `moveto` (at the end past it), so a
 * rule moved down lands one above; this is the value that makes it end at `to`.
 */
function pveMoveto(from: number, to: number, length: number): number {
  return to < from ? to : Math.min(to + 1, length);
}

function noHostLevel(q: FirewallScopeQueryDto, what: string): FirewallScopeQueryDto {
  if (q.scope === 'node') {
    throw new DomainError(
      'VALIDATION',
      `scope: PVE has ${what} at cluster, vm and container level only; host rules use the cluster's (scope cluster)`,
    );
  }
  return q;
}

export function ruleLine(r: {
  type: string;
  action: string;
  macro?: string;
  proto?: string;
  dport?: string;
  source?: string;
  dest?: string;
}): string {
  return [
    r.type,
    r.action,
    r.macro ? `macro ${r.macro}` : '',
    r.proto ?? '',
    r.dport ? `dport ${r.dport}` : '',
    r.source ? `from ${r.source}` : '',
    r.dest ? `to ${r.dest}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
