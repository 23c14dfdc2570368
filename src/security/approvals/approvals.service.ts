import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { argsDigest } from '../../audit/args-digest.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { PolicyCode } from '../policy-codes.js';
import { redactValue } from '../../common/redaction/redactor.js';
import { canonicalArguments } from './approval-digest.js';
import type { ApprovalEntity } from './approval.entity.js';
import { ApprovalExpiredError, ApprovalStore, type ConsumeOutcome } from './approval.store.js';
import { PolicyAudit } from './policy-audit.js';

/** Where the plan of a plan-bound call is looked up (provided by src/security/plans, which imports approvals). */
export const APPROVAL_PLANS = Symbol('ApprovalPlans');
export interface ApprovalPlans {
  get(digest: string): Promise<object | undefined>;
}

/** Everything about one refused call that its approval request needs. */
export interface PendingCall {
  tool: string;
  target: string;
  digest: string;
  args: Record<string, unknown>;
  caller: string;
  /** The policy code and message of the refusal. */
  code: PolicyCode;
  message: string;
  /** Why the tool is gated, shown to the operator, e.g. "delete_vm is high-risk (destroy)". */
  reason: string;
  /** The risk the approval is for (the gated tool's, or exec for a command): which approval paths may grant it. */
  risk: string;
}

/** What an operator gets back: the token is in this answer and nowhere else. */
export interface GrantedApproval {
  request_id: string;
  approval_token: string;
  expires_at: string;
  tool: string;
  target: string;
  digest: string;
  requested_by: string;
}

/** The approval flow on the server side: requests, operator approvals, single-use consumption, all audited. */
@Injectable()
export class ApprovalsService {
  readonly store: ApprovalStore;
  /** How an operator approves on this host, for the hint (the demo's differs). */
  private readonly approveCommand: string;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly audit: PolicyAudit,
    // approval decisions for /metrics; absent in the CLI, which builds this service by hand
    @Optional() private readonly metrics?: MetricsService,
    // the plan of a plan-bound call (plan_digest), shown with the request
    @Optional() @Inject(APPROVAL_PLANS) private readonly plans?: ApprovalPlans,
  ) {
    this.store = new ApprovalStore(dataSource, config.commandPolicy.approvalTtlSeconds * 1000);
    this.approveCommand = config.commandPolicy.approveCommand ?? 'proxmox-mcp-plus approve';
  }

  /** Creates (or reuses) the approval request for a refused call and throws the APPROVAL_REQUIRED error. */
  async refuse(call: PendingCall): Promise<never> {
    const request = await this.store.request({
      tool: call.tool,
      target: call.target,
      digest: call.digest,
      // the operator must see what they approve, commands included; configured secrets are still replaced
      args: redactValue(canonicalArguments(call.args), { keepCommands: true }),
      requestedBy: call.caller,
      reason: call.reason,
      plan: await this.planOf(call.args),
    });
    await this.audit.record({
      actor: call.caller,
      action: call.tool,
      target: call.target,
      outcome: 'approval_required',
      reason: `${call.code}: ${call.message}`,
      args_digest: argsDigest(call.args),
      details: { policy_code: call.code, request_id: request.id, approval_digest: call.digest },
    });
    const expires = new Date(request.requestExpiresAt).toISOString();
    throw new DomainError(
      'APPROVAL_REQUIRED',
      `${call.message}. Approval request ${request.id} was created for this exact call (digest ${call.digest.slice(0, 16)}…).`,
      {
        hint:
          `Ask an operator to approve request ${request.id} (\`${this.approveCommand} ${request.id}\` or ` +
          `POST /approvals/${request.id}) before ${expires}, then repeat the same call with the same arguments ` +
          'plus approval_token set to the token they give you. The token works once, for this caller only.',
        details: {
          policy_code: call.code,
          request_id: request.id,
          digest: call.digest,
          tool: call.tool,
          target: call.target,
          risk: call.risk,
          reason: call.reason,
          request_expires_at: expires,
        },
      },
    );
  }

  /** Uses a single-use token for one call; audits both outcomes. */
  async consume(
    token: string,
    call: { tool: string; target: string; digest: string; caller: string; args: Record<string, unknown> },
  ): Promise<ConsumeOutcome> {
    const outcome = await this.store.consume(token, { digest: call.digest, caller: call.caller });
    if (!outcome.ok) {
      this.metrics?.approvalDecision(outcome.failure === 'APPROVAL_EXPIRED' ? 'expired' : 'denied');
    }
    await this.audit.record({
      actor: call.caller,
      action: 'approval.consume',
      target: call.target,
      outcome: outcome.ok ? 'succeeded' : 'denied',
      reason: outcome.ok
        ? 'APPROVAL_CONSUMED'
        : outcome.failure === 'unknown'
          ? 'APPROVAL_UNKNOWN'
          : outcome.failure,
      args_digest: argsDigest(call.args),
      details: {
        tool: call.tool,
        approval_digest: call.digest,
        ...('approval' in outcome ? { request_id: outcome.approval.id } : {}),
      },
    });
    return outcome;
  }

  /**
   * An operator's approval over HTTP (admin keys only). A key cannot approve its own request: otherwise an agent
   * holding an admin key could approve itself; such setups approve with the CLI on the server host.
   */
  async approveAsPrincipal(id: string, principal: Principal | undefined): Promise<GrantedApproval> {
    const actor = principal?.name ?? 'anonymous';
    if (!canApprove(principal)) {
      this.metrics?.approvalDecision('denied');
      await this.auditApproval(actor, id, 'denied', 'NOT_ADMIN');
      throw new DomainError(
        'FORBIDDEN',
        'Approving requests needs an admin API key (or an OAuth approve role)',
      );
    }
    const request = await this.store.get(id);
    if (request && request.requestedBy === actor) {
      this.metrics?.approvalDecision('denied');
      await this.auditApproval(actor, id, 'denied', 'SELF_APPROVAL', request);
      throw new DomainError(
        'FORBIDDEN',
        `Request ${id} was made with the same API key; a key cannot approve its own calls`,
        {
          hint: 'Approve with another admin key, or on the server host with `proxmox-mcp-plus approve <id>`.',
        },
      );
    }
    return this.approve(id, actor);
  }

  /** Grants a request as `approver` (an API key name, or `cli:<user>`), audited. */
  async approve(id: string, approver: string): Promise<GrantedApproval> {
    try {
      const { approval, token } = await this.store.approve(id, approver);
      this.metrics?.approvalDecision('approved');
      await this.auditApproval(approver, id, 'succeeded', 'APPROVED', approval);
      return granted(approval, token);
    } catch (error) {
      if (error instanceof ApprovalExpiredError) this.metrics?.approvalDecision('expired');
      await this.auditApproval(approver, id, 'failed', error instanceof DomainError ? error.code : 'ERROR');
      throw error;
    }
  }

  /** A request as an operator sees it (no token, no hash). */
  private async planOf(args: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    const digest = args.plan_digest;
    if (typeof digest !== 'string' || !this.plans) return null;
    return ((await this.plans.get(digest).catch(() => undefined)) ?? null) as Record<string, unknown> | null;
  }

  async describe(id: string): Promise<ApprovalView> {
    const request = await this.store.get(id);
    if (!request) throw new DomainError('NOT_FOUND', `No approval request ${id}`);
    return viewOf(request, Date.now());
  }

  private auditApproval(
    actor: string,
    id: string,
    outcome: 'succeeded' | 'failed' | 'denied',
    reason: string,
    request?: ApprovalEntity,
  ): Promise<void> {
    return this.audit.record({
      actor,
      action: 'approval.approve',
      target: request?.target,
      outcome,
      reason,
      details: {
        request_id: id,
        ...(request
          ? { tool: request.toolName, requested_by: request.requestedBy, approval_digest: request.digest }
          : {}),
      },
    });
  }
}

export function granted(approval: ApprovalEntity, token: string): GrantedApproval {
  return {
    request_id: approval.id,
    approval_token: token,
    expires_at: new Date(approval.expiresAt ?? 0).toISOString(),
    tool: approval.toolName,
    target: approval.target,
    digest: approval.digest,
    requested_by: approval.requestedBy,
  };
}

export interface ApprovalView {
  request_id: string;
  tool: string;
  target: string;
  arguments: Record<string, unknown>;
  reason: string;
  requested_by: string;
  status: 'pending' | 'approved' | 'used' | 'denied' | 'expired';
  created_at: string;
  request_expires_at: string;
  approved_by: string | null;
  expires_at: string | null;
  used_at: string | null;
  digest: string;
  /** The plan this call was bound to (plan_digest), as the dry run answered it; null for calls without one. */
  plan: Record<string, unknown> | null;
}

export function viewOf(a: ApprovalEntity, now: number): ApprovalView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const expired =
    (a.status === 'pending' && a.requestExpiresAt <= now) ||
    (a.status === 'approved' && (a.expiresAt ?? 0) <= now);
  return {
    request_id: a.id,
    tool: a.toolName,
    target: a.target,
    arguments: a.arguments,
    reason: a.reason,
    requested_by: a.requestedBy,
    status: expired ? 'expired' : a.status,
    created_at: new Date(a.createdAt).toISOString(),
    request_expires_at: new Date(a.requestExpiresAt).toISOString(),
    approved_by: a.approvedBy,
    expires_at: iso(a.expiresAt),
    used_at: iso(a.usedAt),
    digest: a.digest,
    plan: a.plan ?? null,
  };
}

/** An approver: an admin API key, or an OAuth principal whose token maps to the approve role (auth.oauth.roles). */
export const canApprove = (principal: Principal | undefined): boolean =>
  principal?.via === 'oauth' ? principal.approver === true : principal?.scope === 'admin';
