import { MoreThan, type DataSource, type Repository } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { ApprovalEntity } from '../approvals/approval.entity.js';
import type { ApprovalsService, GrantedApproval } from '../approvals/approvals.service.js';
import type { PolicyAudit } from '../approvals/policy-audit.js';

/** How far back the page lists requests that expired unapproved (so an operator sees what they missed). */
export const EXPIRED_SHOWN_MS = 24 * 3600 * 1000;

/** Who may decide on the page: the same scope the approve route requires. */
export const mayDecide = (principal: Principal): boolean => principal.scope === 'admin';

/**
 * The page's reads and decisions. Approving goes through ApprovalsService.approveAsPrincipal, exactly as
 * POST /approvals/{id} (admin only, not one's own request, audited); denying is one conditional UPDATE of a
 * pending, unexpired request to `denied` (no token ever exists for it), audited as `approval.deny`.
 */
export class ApprovalDecisions {
  private readonly repo: Repository<ApprovalEntity>;

  constructor(
    dataSource: DataSource,
    private readonly approvals: ApprovalsService,
    private readonly audit: PolicyAudit,
    private readonly metrics?: MetricsService,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = dataSource.getRepository(ApprovalEntity);
  }

  /** Pending requests, newest first, with those that expired unapproved in the last day. */
  pending(): Promise<ApprovalEntity[]> {
    return this.repo.find({
      where: { status: 'pending', requestExpiresAt: MoreThan(this.now() - EXPIRED_SHOWN_MS) },
      order: { createdAt: 'DESC' },
      take: 100,
    });
  }

  approve(id: string, principal: Principal): Promise<GrantedApproval> {
    return this.approvals.approveAsPrincipal(id, principal);
  }

  async deny(id: string, principal: Principal): Promise<ApprovalEntity> {
    const actor = principal.name;
    if (!mayDecide(principal)) {
      await this.record(actor, id, 'denied', 'NOT_ADMIN');
      throw new DomainError('FORBIDDEN', 'Denying requests needs an admin API key');
    }
    const now = this.now();
    const result = await this.repo.update(
      { id, status: 'pending', requestExpiresAt: MoreThan(now) },
      { status: 'denied', approvedBy: actor, approvedAt: now },
    );
    const request = await this.repo.findOne({ where: { id } });
    if (result.affected === 1 && request) {
      this.metrics?.approvalDecision('denied');
      await this.record(actor, id, 'succeeded', 'DENIED', request);
      return request;
    }
    const error = !request
      ? new DomainError('NOT_FOUND', `No approval request ${id}`)
      : request.status !== 'pending'
        ? new DomainError('CONFLICT', `Approval request ${id} was already ${request.status}`)
        : new DomainError('CONFLICT', `Approval request ${id} expired; there is nothing left to deny`);
    await this.record(actor, id, 'failed', error.code, request ?? undefined);
    throw error;
  }

  private record(
    actor: string,
    id: string,
    outcome: 'succeeded' | 'failed' | 'denied',
    reason: string,
    request?: ApprovalEntity,
  ): Promise<void> {
    return this.audit.record({
      actor,
      action: 'approval.deny',
      target: request?.target,
      outcome,
      reason,
      details: {
        request_id: id,
        via: 'approvals page',
        ...(request
          ? { tool: request.toolName, requested_by: request.requestedBy, approval_digest: request.digest }
          : {}),
      },
    });
  }
}
