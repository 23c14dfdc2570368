import type { ClusterState } from '../cluster-state.js';
import type { SimHaRule } from '../ha-state.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';

/**
 * PVE 9 HA rules (pve-ha-manager API2/HA/Rules.pm, rules.cfg): node-affinity rules (resources run on the listed
 * nodes, by priority; `strict`: only there) and resource-affinity rules (resources kept together or apart).
 * Synchronous like the other HA config calls. Refusals as PVE gives them: a 500 for an unknown rule, an existing
 * id, unmanaged resources or unknown nodes; a 400 with per-parameter errors for a rule that cannot hold
 * (check_feasibility) or a property of the other rule type. GET /cluster/ha/rules itself is in ha.ts.
 */
export function registerHaRuleRoutes(router: Router): void {
  router
    .post('/cluster/ha/rules', createRule)
    .get('/cluster/ha/rules/{rule}', readRule)
    .put('/cluster/ha/rules/{rule}', updateRule)
    .delete('/cluster/ha/rules/{rule}', deleteRule);
}

const TYPE_PROPERTIES: Record<SimHaRule['type'], string[]> = {
  'node-affinity': ['nodes', 'strict'],
  'resource-affinity': ['affinity'],
};
const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

function existing(ctx: RouteContext): SimHaRule {
  const id = ctx.str('rule') ?? '';
  const rule = ctx.cluster.ha.rules.get(id);
  if (!rule) throw PveError.internal(`HA rule '${id}' does not exist`);
  return rule;
}

export function ruleRow(cluster: ClusterState, r: SimHaRule): Record<string, unknown> {
  const order = [...cluster.ha.rules.keys()].indexOf(r.rule) + 1;
  return {
    rule: r.rule,
    type: r.type,
    resources: r.resources.join(','),
    ...(r.nodes ? { nodes: r.nodes.join(',') } : {}),
    ...(r.strict !== undefined ? { strict: r.strict ? 1 : 0 } : {}),
    ...(r.affinity ? { affinity: r.affinity } : {}),
    ...(r.disable ? { disable: 1 } : {}),
    ...(r.comment !== undefined ? { comment: r.comment } : {}),
    order,
    digest: cluster.ha.rulesDigest(),
  };
}

/** A property of the other rule type is not part of this type's section schema. */
function checkTypeProperties(ctx: RouteContext, type: SimHaRule['type']): void {
  const errors: Record<string, string> = {};
  for (const [other, keys] of Object.entries(TYPE_PROPERTIES)) {
    if (other === type) continue;
    for (const key of keys)
      if (ctx.has(key)) errors[key] = `property is not defined in schema for type '${type}'`;
  }
  if (Object.keys(errors).length) throw PveError.params(errors);
}

/** assert_resources_are_configured, assert_nodes_exist, then the feasibility checks of the whole rule set. */
function checkRule(cluster: ClusterState, rule: SimHaRule): void {
  const unmanaged = rule.resources.filter((sid) => !cluster.ha.resources.has(sid));
  if (unmanaged.length) throw PveError.internal(`cannot use unmanaged resource(s) ${unmanaged.join(', ')}.`);
  const missing = (rule.nodes ?? []).map((n) => n.split(':')[0]).filter((n) => !cluster.node(n));
  if (missing.length) throw PveError.internal(`cannot use non-existent node(s) ${missing.join(', ')}.`);
  const errors: Record<string, string> = {};
  if (rule.type === 'node-affinity') {
    if (!rule.nodes?.length) errors.nodes = 'property is missing and it is not optional';
    for (const other of cluster.ha.rules.values()) {
      if (other.rule === rule.rule || other.type !== 'node-affinity' || other.disable || rule.disable)
        continue;
      const shared = rule.resources.find((sid) => other.resources.includes(sid));
      if (shared) errors.resources = `resource '${shared}' is already used in another node affinity rule`;
    }
  } else {
    if (!rule.affinity) errors.affinity = 'property is missing and it is not optional';
    if (rule.resources.length < 2) errors.resources = 'rule must specify at least two resources';
  }
  if (Object.keys(errors).length) throw PveError.params(errors);
}

function createRule(ctx: RouteContext): null {
  const { cluster } = ctx;
  const id = ctx.str('rule') ?? '';
  const type = ctx.str('type') as SimHaRule['type'];
  checkTypeProperties(ctx, type);
  if (cluster.ha.rules.has(id)) throw PveError.internal(`HA rule '${id}' already defined`);
  const comment = ctx.str('comment');
  const rule: SimHaRule = {
    rule: id,
    type,
    resources: list(ctx.str('resources')),
    ...(type === 'node-affinity'
      ? { nodes: list(ctx.str('nodes')), ...(ctx.has('strict') ? { strict: ctx.bool('strict') } : {}) }
      : { ...(ctx.has('affinity') ? { affinity: ctx.str('affinity') as 'positive' | 'negative' } : {}) }),
    ...(ctx.has('disable') && ctx.bool('disable') ? { disable: true } : {}),
    ...(comment !== undefined ? { comment } : {}),
  };
  checkRule(cluster, rule);
  cluster.ha.rules.set(id, rule);
  return null;
}

function readRule(ctx: RouteContext): unknown {
  return ruleRow(ctx.cluster, existing(ctx));
}

/** PUT: `type` must be the rule's; options set or deleted; guarded by rules.cfg's digest. */
function updateRule(ctx: RouteContext): null {
  const { cluster } = ctx;
  const current = existing(ctx);
  const type = ctx.str('type');
  if (type !== current.type) {
    throw PveError.params({ type: `rule '${current.rule}' is of type '${current.type}', not '${type}'` });
  }
  checkTypeProperties(ctx, current.type);
  const digest = ctx.str('digest');
  if (digest !== undefined && digest !== cluster.ha.rulesDigest()) {
    throw PveError.internal('detected modified configuration - file changed by other user? Try again.');
  }
  const next: SimHaRule = { ...current, ...(current.nodes ? { nodes: [...current.nodes] } : {}) };
  for (const key of list(ctx.str('delete'))) {
    if (key === 'resources' || key === 'nodes' || key === 'affinity') {
      throw PveError.params({ delete: `unable to delete required option '${key}'` });
    }
    if (key === 'comment') delete next.comment;
    else if (key === 'strict') delete next.strict;
    else if (key === 'disable') delete next.disable;
  }
  if (ctx.has('resources')) next.resources = list(ctx.str('resources'));
  if (ctx.has('nodes')) next.nodes = list(ctx.str('nodes'));
  if (ctx.has('strict')) next.strict = ctx.bool('strict');
  if (ctx.has('affinity')) next.affinity = ctx.str('affinity') as 'positive' | 'negative';
  if (ctx.has('disable')) next.disable = ctx.bool('disable') || undefined;
  const comment = ctx.str('comment');
  if (comment !== undefined) next.comment = comment;
  if (next.disable === undefined) delete next.disable;
  checkRule(cluster, next);
  cluster.ha.rules.set(current.rule, next);
  return null;
}

function deleteRule(ctx: RouteContext): null {
  const rule = existing(ctx);
  ctx.cluster.ha.rules.delete(rule.rule);
  return null;
}
