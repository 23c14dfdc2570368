/**
 * Label values for /metrics. Every function here returns a value from a bounded set: a label taken from raw
 * request data (a path with an id in it, a typo'd tool name) would create a new series per distinct value and
 * could grow Prometheus without limit, or put a VM id or task UPID into a monitoring system.
 */

/** A request no route matched (404): the raw path is never a label (the reference's cardinality bug). */
export const UNMATCHED_ROUTE = '<unmatched>';
/** A request answered before routing by a middleware: API-key refusals, body limits, the /docs assets. */
export const MIDDLEWARE_ROUTE = '<middleware>';
/** A tools/call naming no registered tool. */
export const UNKNOWN_TOOL = '<unknown>';

/** How a tool call ended; errors are grouped by the HTTP status family their error code maps to. */
export type ToolOutcome = 'success' | 'denied' | 'client_error' | 'upstream_error' | 'server_error';

/** Decisions on approval requests of high-risk calls (security/approvals). */
export type ApprovalDecision = 'approved' | 'denied' | 'expired';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const methodLabel = (method: string | undefined): string =>
  method && METHODS.has(method.toUpperCase()) ? method.toUpperCase() : 'OTHER';

/**
 * The route template Express matched (`/jobs/:job_id` → `/jobs/{job_id}`, the spelling of the OpenAPI document and
 * the reference), or a fixed label when none matched.
 */
export function routeLabel(routePath: unknown, status: number): string {
  if (typeof routePath === 'string' && routePath.startsWith('/')) {
    return routePath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  }
  return status === 404 ? UNMATCHED_ROUTE : MIDDLEWARE_ROUTE;
}

/**
 * The same classes for MCP calls (from the error code's HTTP status) and REST calls (from the response status):
 * 401/403/429 are refusals (no key, scope, tool exposure, command policy, approval required, rate limit); 502-504
 * mean a dependency failed (PVE, or the job database for 503 STORE_UNAVAILABLE).
 */
export function outcomeForStatus(status: number): ToolOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status < 500) return 'client_error';
  if (status === 502 || status === 503 || status === 504) return 'upstream_error';
  return 'server_error';
}

/** The segment after one of these PVE path words is an identifier. */
const ID_AFTER: Readonly<Record<string, string>> = {
  nodes: '{node}',
  qemu: '{vmid}',
  lxc: '{vmid}',
  tasks: '{upid}',
  storage: '{storage}',
  content: '{volume}',
  snapshot: '{snapname}',
  network: '{iface}',
  pools: '{poolid}',
  users: '{userid}',
  ipset: '{name}',
  aliases: '{name}',
  groups: '{group}',
};
/** PVE's literal path words are lower-case letters with `-` or `_` (`status`, `network-get-interfaces`). */
const LITERAL_SEGMENT = /^[a-z][a-z_-]{0,39}$/;

/**
 * A PVE API path with its identifiers replaced by placeholders: `/nodes/pve1/qemu/100/status/start` →
 * `/nodes/{node}/qemu/{vmid}/status/start`. Identifiers are known by position (after `nodes`, `qemu`, …) and, as
 * a safety net, any segment that does not look like a PVE path word (digits, `:`, `@`, `%`, `.`, upper case)
 * becomes `{id}`, so a UPID, volume id or VM id never becomes a label value.
 */
export function pvePathTemplate(path: string): string {
  const segments = path.split('?')[0].split('/');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const previous = i > 0 ? segments[i - 1] : '';
    if (segment === '') out.push('');
    else if (i > 0 && Object.prototype.hasOwnProperty.call(ID_AFTER, previous) && out[i - 1] === previous) {
      out.push(ID_AFTER[previous]);
    } else out.push(LITERAL_SEGMENT.test(segment) ? segment : '{id}');
  }
  return out.join('/') || '/';
}
