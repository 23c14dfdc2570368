import { Injectable } from '@nestjs/common';
import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  UriTemplate,
  type CompleteResult,
  type GetPromptResult,
  type ListPromptsResult,
  type ListResourcesResult,
  type ListResourceTemplatesResult,
  type ReadResourceResult,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { DomainError } from '../../common/errors/domain-error.js';
import { toolErrorText } from '../../common/errors/mcp-error.mapper.js';
import { redactText } from '../../common/redaction/redactor.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { ToolAccessService } from '../../security/tool-access.service.js';
import { PROMPTS } from '../catalog/prompt-table.js';
import { ToolInvoker, type ToolCallContext } from '../registry/tool-invoker.js';
import type { CompleteParams, McpCatalogHandlers } from './mcp-catalog-wire.js';

/**
 * MCP resources, resource templates, prompts and argument completion (both protocol eras). Nothing here reads
 * Proxmox itself: a resource is the structured result of the read tools behind it, run through ToolInvoker as
 * this caller, so the same guards (scope, exposure lists, key limits, rate limit), interceptors and metrics apply as
 * to tools/call. A resource or template whose tools the caller may not call is not listed, and reading it is
 * refused.
 */

const JSON_MIME = 'application/json';
/** completion/complete answers at most this many values (the spec's limit), with hasMore beyond. */
const MAX_COMPLETIONS = 100;
/** A prompt argument is a name, an ID or one sentence; anything longer is refused rather than echoed. */
const MAX_PROMPT_ARGUMENT = 500;

type Structured = Record<string, unknown>;
type Run = (tool: string, args: Record<string, unknown>) => Promise<Structured>;

interface StaticResource {
  uri: string;
  name: string;
  title: string;
  description: string;
  /** The caller must be able to call all of these. */
  tools: string[];
  read(run: Run): Promise<Structured>;
}

interface TemplateResource {
  template: UriTemplate;
  name: string;
  title: string;
  description: string;
  tools: string[];
  read(run: Run, vars: Record<string, string>, uri: string): Promise<Structured>;
}

const STATIC_RESOURCES: StaticResource[] = [
  {
    uri: 'pve://cluster/inventory',
    name: 'cluster-inventory',
    title: 'Cluster inventory',
    description:
      'Nodes, VMs and containers of the cluster: { nodes, vms, containers }, each the result of get_nodes, get_vms and get_containers.',
    tools: ['get_nodes', 'get_vms', 'get_containers'],
    read: async (run) => {
      const [nodes, vms, containers] = await Promise.all([
        run('get_nodes', {}),
        run('get_vms', {}),
        run('get_containers', {}),
      ]);
      return { nodes, vms, containers };
    },
  },
  {
    uri: 'pve://nodes',
    name: 'nodes',
    title: 'Cluster nodes',
    description: 'The cluster nodes with status, uptime, CPU and memory: the result of get_nodes.',
    tools: ['get_nodes'],
    read: (run) => run('get_nodes', {}),
  },
];

const TEMPLATES: TemplateResource[] = [
  {
    template: new UriTemplate('pve://nodes/{node}'),
    name: 'node-status',
    title: 'Node status',
    description: 'Detailed status of one node: the result of get_node_status.',
    tools: ['get_node_status'],
    read: (run, { node }) => run('get_node_status', { node }),
  },
  {
    template: new UriTemplate('pve://guests/{vmid}/config'),
    name: 'guest-config',
    title: 'Guest configuration',
    description:
      'A VM or container configuration and its digest: the result of get_vm_config or get_container_config (the node and type are looked up with get_vms / get_containers).',
    tools: ['get_vms', 'get_containers', 'get_vm_config', 'get_container_config'],
    read: async (run, { vmid }, uri) => {
      const guest = await findGuest(run, vmid, uri);
      return run(guest.type === 'lxc' ? 'get_container_config' : 'get_vm_config', {
        node: guest.node,
        vmid: guest.vmid,
      });
    },
  },
  {
    template: new UriTemplate('pve://jobs/{job_id}'),
    name: 'job',
    title: 'Job',
    description:
      'One job (what a mutating tool returned): status, progress, Proxmox task id. The result of get_job.',
    tools: ['get_job'],
    read: (run, { job_id }) => run('get_job', { job_id }),
  },
  {
    template: new UriTemplate('pve://jobs/{job_id}/log'),
    name: 'job-task-log',
    title: 'Job task log',
    description:
      "The Proxmox task log of a job's task (first 500 lines): the result of get_task_log for the job's node and upid.",
    tools: ['get_job', 'get_task_log'],
    read: async (run, { job_id }, uri) => {
      const job = await run('get_job', { job_id });
      if (typeof job.upid !== 'string' || typeof job.node !== 'string') {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `${uri}: job ${job_id} has no Proxmox task (yet): no task log to read`,
        );
      }
      return run('get_task_log', { node: job.node, upid: job.upid });
    },
  },
];

/** A guest by ID through the list tools; VMs first, then containers. */
async function findGuest(
  run: Run,
  vmid: string,
  uri: string,
): Promise<{ vmid: number; node: string; type: string }> {
  if (!/^\d{3,9}$/.test(vmid)) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `${uri}: vmid must be a guest ID (100-999999999), got '${vmid.slice(0, 40)}'`,
    );
  }
  const id = Number(vmid);
  for (const [tool, key] of [
    ['get_vms', 'vms'],
    ['get_containers', 'containers'],
  ] as const) {
    const list = (await run(tool, {}))[key] as { vmid: number; node: string; type: string }[] | undefined;
    const found = list?.find((g) => g.vmid === id);
    if (found) return found;
  }
  throw new ResourceNotFoundError(uri, `Resource ${uri} not found: no VM or container ${id} in the cluster`);
}

/** Argument names completion fills, for template variables and prompt arguments alike. */
type CompletionKind = 'target' | 'node' | 'vmid' | 'storage' | 'snapshot' | 'iso' | 'template';
const COMPLETION_KINDS: Record<string, CompletionKind> = {
  target: 'target',
  node: 'node',
  vmid: 'vmid',
  storage: 'storage',
  snapname: 'snapshot',
  snapshot: 'snapshot',
  keep_snapshot: 'snapshot',
  iso: 'iso',
  iso_volume: 'iso',
  template: 'template',
  ostemplate: 'template',
};

/** The transport's caller (McpCallerContext, repeated here: mcp-server.ts imports this file). */
interface CatalogCaller {
  principal?: Principal;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
}

@Injectable()
export class McpCatalog {
  constructor(
    private readonly invoker: ToolInvoker,
    private readonly access: ToolAccessService,
  ) {}

  /** This caller's catalog methods; tools run with the caller's identity and the request's abort signal. */
  handlers(caller: CatalogCaller): McpCatalogHandlers {
    const context = (ctx: ServerContext): ToolCallContext => ({
      headers: caller.headers ?? {},
      ip: caller.ip,
      principal: caller.principal,
      signal: ctx.mcpReq.signal,
    });
    return {
      listResources: async () => this.listResources(caller.principal),
      listResourceTemplates: async () => this.listTemplates(caller.principal),
      readResource: (uri, ctx) => this.readResource(uri, context(ctx)),
      listPrompts: async () => this.listPrompts(),
      getPrompt: async (name, args) => this.getPrompt(name, args),
      complete: (params, ctx) => this.complete(params, context(ctx)),
    };
  }

  listResources(principal: Principal | undefined): ListResourcesResult {
    return {
      resources: STATIC_RESOURCES.filter((r) => this.mayCall(principal, r.tools)).map((r) => ({
        uri: r.uri,
        name: r.name,
        title: r.title,
        description: r.description,
        mimeType: JSON_MIME,
      })),
    };
  }

  listTemplates(principal: Principal | undefined): ListResourceTemplatesResult {
    return {
      resourceTemplates: TEMPLATES.filter((t) => this.mayCall(principal, t.tools)).map((t) => ({
        uriTemplate: advertised(t),
        name: t.name,
        title: t.title,
        description: t.description,
        mimeType: JSON_MIME,
      })),
    };
  }

  async readResource(uri: string, context: ToolCallContext): Promise<ReadResourceResult> {
    const { base, target } = splitTarget(uri);
    const run = this.runner(context, uri, target);
    const known = STATIC_RESOURCES.find((r) => r.uri === base);
    let read: (() => Promise<Structured>) | undefined;
    let tools: string[] = [];
    if (known) {
      read = () => known.read(run);
      tools = known.tools;
    } else {
      for (const t of TEMPLATES) {
        const vars = matchVariables(t.template, base);
        if (!vars) continue;
        read = () => t.read(run, vars, uri);
        tools = t.tools;
        break;
      }
    }
    if (!read) {
      throw new ResourceNotFoundError(
        uri,
        `Resource ${uri.slice(0, 200)} not found: known are ${[...STATIC_RESOURCES.map((r) => r.uri), ...TEMPLATES.map(advertised)].join(', ')}`,
      );
    }
    // a caller without the tools is refused before any of them runs (nothing half-read)
    const missing = tools.filter((name) => !this.mayCall(context.principal, [name]));
    if (missing.length) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `FORBIDDEN: reading ${uri} needs the tool${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this caller may not call`,
      );
    }
    const structured = await read();
    return { contents: [{ uri, mimeType: JSON_MIME, text: JSON.stringify(structured) }] };
  }

  listPrompts(): ListPromptsResult {
    return {
      prompts: PROMPTS.map((p) => ({
        name: p.name,
        title: p.title,
        description: p.description,
        arguments: p.arguments.map((a) => ({ ...a })),
      })),
    };
  }

  getPrompt(name: string, args: Record<string, string> | undefined): GetPromptResult {
    const prompt = PROMPTS.find((p) => p.name === name);
    if (!prompt) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown prompt '${name.slice(0, 80)}': known are ${PROMPTS.map((p) => p.name).join(', ')}`,
      );
    }
    const given = args ?? {};
    const unknown = Object.keys(given).filter((k) => !prompt.arguments.some((a) => a.name === k));
    if (unknown.length) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Prompt ${name}: unknown argument ${unknown.map((k) => `'${k}'`).join(', ')}; it accepts ${prompt.arguments.map((a) => a.name).join(', ')}`,
      );
    }
    const missing = prompt.arguments.filter((a) => a.required && !given[a.name]?.trim());
    if (missing.length) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Prompt ${name}: missing required argument ${missing.map((a) => `'${a.name}' (${a.description})`).join(', ')}`,
      );
    }
    const long = prompt.arguments.find((a) => (given[a.name]?.length ?? 0) > MAX_PROMPT_ARGUMENT);
    if (long) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Prompt ${name}: argument '${long.name}' is longer than ${MAX_PROMPT_ARGUMENT} characters`,
      );
    }
    if (given.vmid !== undefined && !/^\d{3,9}$/.test(given.vmid.trim())) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Prompt ${name}: argument 'vmid' must be a guest ID (100-999999999), got '${given.vmid.slice(0, 40)}'`,
      );
    }
    return {
      description: prompt.description,
      messages: [{ role: 'user', content: { type: 'text', text: prompt.render(given) } }],
    };
  }

  /** completion/complete for a template variable or a prompt argument, from the inventory through the list tools. */
  async complete(params: CompleteParams, context: ToolCallContext): Promise<CompleteResult> {
    const { ref, argument } = params;
    if (ref.type === 'ref/prompt') {
      const prompt = PROMPTS.find((p) => p.name === ref.name);
      if (!prompt)
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Unknown prompt '${String(ref.name).slice(0, 80)}'`,
        );
      if (!prompt.arguments.some((a) => a.name === argument.name)) return empty();
    } else if (ref.type === 'ref/resource') {
      const template = TEMPLATES.find((t) => t.template.toString() === ref.uri || advertised(t) === ref.uri);
      if (!template) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Unknown resource template '${String(ref.uri).slice(0, 200)}'`,
        );
      }
      const variables = [...template.template.variableNames, 'target'];
      if (!variables.includes(argument.name)) return empty();
    } else {
      return empty();
    }
    const kind = COMPLETION_KINDS[argument.name];
    if (!kind) return empty();
    const values = await this.candidates(kind, params.context?.arguments ?? {}, context);
    const prefix = argument.value ?? '';
    const matching = [...new Set(values)].filter((v) => v.startsWith(prefix)).sort(natural);
    return {
      completion: {
        values: matching.slice(0, MAX_COMPLETIONS),
        total: matching.length,
        hasMore: matching.length > MAX_COMPLETIONS,
      },
    };
  }

  /** Every value of one kind the caller may see; a list tool it may not call contributes nothing. */
  private async candidates(
    kind: CompletionKind,
    known: Record<string, string>,
    context: ToolCallContext,
  ): Promise<string[]> {
    const list = async (tool: string, args: Record<string, unknown>, key: string): Promise<Structured[]> => {
      if (!this.mayCall(context.principal, [tool])) return [];
      const outcome = await this.invoker.call(tool, args, context);
      return outcome.ok ? ((outcome.structured[key] as Structured[] | undefined) ?? []) : [];
    };
    const target = known.target ? { target: known.target } : {};
    const node = { ...target, ...(known.node ? { node: known.node } : {}) };
    switch (kind) {
      case 'target':
        return (await list('list_targets', {}, 'targets')).map((t) => String(t.name));
      case 'node':
        return (await list('get_nodes', target, 'nodes')).map((n) => String(n.node));
      case 'vmid': {
        const [vms, cts] = await Promise.all([
          list('get_vms', node, 'vms'),
          list('get_containers', node, 'containers'),
        ]);
        return [...vms, ...cts].map((g) => String(g.vmid));
      }
      case 'storage':
        return (await list('get_storage', node, 'storages')).map((s) => String(s.storage));
      case 'iso':
        return (await list('list_isos', node, 'isos')).map((i) => String(i.volid));
      case 'template':
        return (await list('list_templates', node, 'templates')).map((i) => String(i.volid));
      case 'snapshot': {
        // which guest: context.arguments.vmid (and its node and type from the inventory)
        const vmid = Number(known.vmid);
        if (!Number.isInteger(vmid)) return [];
        const [vms, cts] = await Promise.all([
          list('get_vms', node, 'vms'),
          list('get_containers', node, 'containers'),
        ]);
        const guest = [...vms, ...cts].find((g) => g.vmid === vmid);
        if (!guest) return [];
        const snaps = await list(
          'list_snapshots',
          { ...target, node: guest.node, vmid, vm_type: guest.type === 'lxc' ? 'lxc' : 'qemu' },
          'snapshots',
        );
        return snaps.map((s) => String(s.name)).filter((n) => n !== 'current');
      }
    }
  }

  /** The tools behind a resource, run as this caller; a refusal becomes the request's JSON-RPC error. */
  private runner(context: ToolCallContext, uri: string, target: string | undefined): Run {
    return async (tool, args) => {
      const outcome = await this.invoker.call(tool, target ? { ...args, target } : args, context);
      if (!outcome.ok) throw resourceError(uri, outcome.error);
      return outcome.structured;
    };
  }

  /** As tools/list decides (McpServerFactory.toolsFor): exposed, and allowed for this key and scope. */
  private mayCall(principal: Principal | undefined, tools: string[]): boolean {
    if (!principal) return tools.every((t) => this.access.isExposed(t));
    const visible = this.access.visibleTools(principal);
    return tools.every((t) => visible.has(t));
  }
}

/** Templates are listed with `{?target}`: any resource reads another configured cluster with `?target=name`. */
const advertised = (t: TemplateResource) => `${t.template.toString()}{?target}`;

/** `pve://nodes?target=lab` → the resource and the target its tools get; any other query is refused. */
function splitTarget(uri: string): { base: string; target?: string } {
  const at = uri.indexOf('?');
  if (at < 0) return { base: uri };
  const query = new URLSearchParams(uri.slice(at + 1));
  const keys = [...new Set(query.keys())];
  const target = query.get('target');
  if (keys.some((k) => k !== 'target') || !target) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `${uri.slice(0, 200)}: the only query a resource accepts is ?target=<name> (see list_targets)`,
    );
  }
  return { base: uri.slice(0, at), target };
}

function matchVariables(template: UriTemplate, uri: string): Record<string, string> | undefined {
  const vars = template.match(uri);
  if (!vars) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    const value = Array.isArray(v) ? v.join(',') : v;
    // a variable never spans a path segment: pve://jobs/x/log is the log template, not job 'x/log'
    if (value === '' || value.includes('/')) return undefined;
    try {
      out[k] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return out;
}

function resourceError(uri: string, error: DomainError): ProtocolError {
  const text = redactText(toolErrorText(error));
  if (error.code === 'NOT_FOUND' || error.code === 'UPSTREAM_NOT_FOUND') {
    return new ResourceNotFoundError(uri, `Resource ${uri.slice(0, 200)} not found: ${text}`);
  }
  if (error.code === 'VALIDATION')
    return new ProtocolError(ProtocolErrorCode.InvalidParams, `${uri}: ${text}`);
  if (['FORBIDDEN', 'UNAUTHORIZED', 'POLICY_DENIED', 'RATE_LIMITED'].includes(error.code)) {
    return new ProtocolError(ProtocolErrorCode.InvalidRequest, text);
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, text);
}

const empty = (): CompleteResult => ({ completion: { values: [], total: 0, hasMore: false } });

const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
