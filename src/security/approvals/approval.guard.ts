import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { argsDigest } from '../../audit/args-digest.js';
import { callArguments } from '../../audit/tool-call-facts.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { TOOL_TABLE, type ToolTable } from '../../common/tools/tool-table.js';
import type { PolicyCode } from '../policy-codes.js';
import { APPROVAL_TOKEN_ARG, APPROVAL_TOKEN_HEADER, approvalDigest, callTarget } from './approval-digest.js';
import {
  acceptsApprovalToken,
  evaluateGate,
  gatingFamilies,
  RETRY_TOOL,
  type ApprovalFamily,
  type GateDecision,
  type GatedTool,
} from './approval-gate.js';
import { DeferredApproval } from './deferred-approval.js';
import { ApprovalsService } from './approvals.service.js';
import { PolicyAudit } from './policy-audit.js';

/** The parts of an HTTP request or of the invoker's synthetic tool request this guard reads. */
interface GuardedRequest {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  principal?: Principal;
  /** Set here for a gated call; ApprovalInterceptor puts it in the call context. */
  approval?: DeferredApproval;
}

const FAILURE_MESSAGES = {
  APPROVAL_USED: 'This approval token was already used; each approval allows one call',
  APPROVAL_EXPIRED: 'This approval token has expired',
  APPROVAL_MISMATCH: 'This approval token was granted for a different call (tool, arguments or target)',
  APPROVAL_WRONG_CALLER: 'This approval token was granted to another caller',
} as const;

/**
 * Global guard (after the principal and the command policy): high-risk calls need an approval. Identical on REST
 * and MCP because both reach it as a request carrying the tool's metadata. It decides which approval a call needs
 * but does not settle it: that happens at the call's first change (see DeferredApproval), after validation and
 * the service's read-only checks. It takes `approval_token` out of the
 * arguments (JSON body / MCP argument, or the X-Approval-Token header) before the ValidationPipe sees them, so tool
 * DTOs never declare it; the registry adds it to the schema of every tool that accepts it. Never from the query
 * string: URLs end up in access logs and browser histories.
 */
@Injectable()
export class ApprovalGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly approvals: ApprovalsService,
    private readonly audit: PolicyAudit,
    @Inject(TOOL_TABLE) private readonly registry: ToolTable,
    @Optional() private readonly jobs?: JobsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<GuardedRequest>();
    refuseApprovalTokenInQuery(req.query);
    const options = this.reflector.get<McpToolOptions | undefined>(MCP_TOOL_METADATA, context.getHandler());
    if (!options) return true;
    const policy = this.config.commandPolicy;
    const tool: GatedTool = { name: options.name, risk: options.risk };
    if (!acceptsApprovalToken(tool, policy)) return true;

    const supplied = takeToken(req);
    const args = callArguments(req);
    let gated = tool;
    let target = callTarget(this.config.targets, args.target);
    if (tool.name === RETRY_TOOL) {
      // gated like the job's own tool; the approval is still for this retry (digest of retry_job + job_id)
      const job = await this.retriedJob(args.job_id);
      if (!job) return true;
      // a job of a tool this build no longer has is treated as destructive (fail closed)
      gated = { name: job.toolName, risk: this.registry.get(job.toolName)?.risk ?? 'destroy' };
      target = job.target;
    }
    const families = gatingFamilies(gated, policy);
    if (!families.length) return true;

    const caller = req.principal?.name ?? 'anonymous';
    const digest = approvalDigest({ tool: tool.name, target, args });
    const decisions = families.map((family) => ({
      family,
      ...evaluateGate(family, gated.name, policy, supplied),
    }));
    // Decided now, settled later: the call first runs its validation and read-only checks, and the approval is
    // consumed or requested at its first change (approvalCheckpoint), so a doomed call never reaches an operator
    // and a token is never spent on a call that fails its checks. ApprovalInterceptor settles it at the latest
    // when the handler returns.
    req.approval = new DeferredApproval(
      () => this.settle({ tool, gated, target, args, caller, digest, supplied, decisions }),
      decisions.some((d) => d.kind === 'approval'),
    );
    return true;
  }

  /** Consumes the presented approval or creates a request and throws APPROVAL_REQUIRED; audits passes. */
  private async settle(call: {
    tool: GatedTool;
    gated: GatedTool;
    target: string;
    args: Record<string, unknown>;
    caller: string;
    digest: string;
    supplied: string | undefined;
    decisions: Array<GateDecision & { family: ApprovalFamily }>;
  }): Promise<void> {
    const { tool, gated, target, args, caller, digest, supplied, decisions } = call;
    const needed = decisions.filter((d) => d.kind === 'approval');
    // audit-only passes and static-token approvals are recorded once the call is known to go ahead
    const recordPasses = async () => {
      for (const d of decisions) {
        if (d.kind !== 'allow' || !d.audit) continue;
        await this.audit.record({
          actor: caller,
          action: passAction(d.code, d.message),
          target,
          outcome: 'succeeded',
          reason: `${d.code}: ${d.message}`,
          args_digest: argsDigest(args),
          details: { tool: tool.name, policy_code: d.code, approval_digest: digest },
        });
      }
    };
    if (!needed.length) return recordPasses();

    const first = needed[0];
    let code: PolicyCode = first.code;
    let message = first.message;
    if (supplied) {
      const outcome = await this.approvals.consume(supplied, {
        tool: tool.name,
        target,
        digest,
        caller,
        args,
      });
      if (outcome.ok) return recordPasses();
      if (outcome.failure !== 'unknown') {
        code = `${prefixOf(first.family)}_${outcome.failure}`;
        message = FAILURE_MESSAGES[outcome.failure];
      }
    }
    return this.approvals.refuse({
      tool: tool.name,
      target,
      digest,
      args,
      caller,
      code,
      message,
      reason: reasonOf(tool, gated, first.family),
      risk: first.family === 'command' ? 'exec' : gated.risk,
    });
  }

  private async retriedJob(jobId: unknown): Promise<{ toolName: string; target: string } | undefined> {
    if (typeof jobId !== 'string' || !this.jobs) return undefined; // the ValidationPipe reports a bad job_id
    const job = await this.jobs.entity(jobId);
    return { toolName: job.toolName, target: job.target };
  }
}

/** The audit action of a call that runs without a single-use approval. */
function passAction(code: PolicyCode, message: string): string {
  if (code.endsWith('AUDIT_ALLOW')) return 'approval.audit_only';
  return message.startsWith('Allowed by policy') ? 'approval.waived_by_policy' : 'approval.static_token';
}

const prefixOf = (family: ApprovalFamily) => (family === 'operation' ? 'OP_POLICY' : 'CMD_POLICY');

function reasonOf(tool: GatedTool, gated: GatedTool, family: ApprovalFamily): string {
  const why =
    family === 'command'
      ? `${gated.name} runs commands and command execution needs approval`
      : `${gated.name} is high-risk${gated.risk === 'destroy' ? ' (destroy)' : ' (command_policy.high_risk_operations)'}`;
  return tool.name === gated.name ? why : `${tool.name} of a ${gated.name} job: ${why}`;
}

/**
 * A token in the URL is refused on every route, before anything runs: URLs end up in access logs and browser
 * histories. Also called by the MCP endpoint, whose transport request does not pass the guards.
 */
export function refuseApprovalTokenInQuery(query: Record<string, unknown> | undefined): void {
  if (query && Object.prototype.hasOwnProperty.call(query, APPROVAL_TOKEN_ARG)) {
    throw new DomainError('VALIDATION', 'approval_token is not accepted in the query string', {
      hint: 'Send it in the JSON body (or as the MCP argument) or in the X-Approval-Token header: URLs are logged.',
    });
  }
}

/** Removes approval_token from the body (the DTOs do not declare it) and returns it, or the header's. */
function takeToken(req: GuardedRequest): string | undefined {
  let fromBody: string | undefined;
  if (req.body && typeof req.body === 'object' && APPROVAL_TOKEN_ARG in req.body) {
    const body = req.body as Record<string, unknown>;
    const value = body[APPROVAL_TOKEN_ARG];
    delete body[APPROVAL_TOKEN_ARG];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new DomainError('VALIDATION', 'approval_token must be a string');
    }
    fromBody = value || undefined;
  }
  const rawHeader = req.headers?.[APPROVAL_TOKEN_HEADER];
  const fromHeader = (Array.isArray(rawHeader) ? rawHeader[0] : rawHeader) || undefined;
  if (fromBody && fromHeader && fromBody !== fromHeader) {
    throw new DomainError(
      'VALIDATION',
      'approval_token and the X-Approval-Token header differ; send one token',
    );
  }
  return fromBody ?? fromHeader;
}
