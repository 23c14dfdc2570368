import { randomBytes, randomUUID } from 'node:crypto';
import { IsNull, LessThan, MoreThan, type DataSource, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APPROVAL_TOKEN_PREFIX } from '../../common/redaction/redactor.js';
import type { ApprovalTokenFailure } from '../policy-codes.js';
import { hashToken } from './approval-digest.js';
import { ApprovalEntity } from './approval.entity.js';

/** Rows older than this are deleted when new requests come in; the audit log keeps the history. */
export const APPROVAL_RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface ApprovalCall {
  tool: string;
  target: string;
  digest: string;
  /** Shown to the operator; the caller passes them redacted. */
  args: Record<string, unknown>;
  requestedBy: string;
  reason: string;
  /** The stored plan of a call that carried plan_digest. */
  plan?: Record<string, unknown> | null;
}

export type ConsumeOutcome =
  | { ok: true; approval: ApprovalEntity }
  /** `unknown`: no approval has this token (wrong, tampered, or a static token that did not match). */
  | { ok: false; failure: 'unknown' }
  | { ok: false; failure: ApprovalTokenFailure; approval: ApprovalEntity };

/**
 * The approvals table, without Nest: the server (ApprovalsService) and the `approve` CLI command use the same
 * code on the same database. Tokens exist in clear only in the return value of approve(); the table keeps their
 * SHA-256. Every state change is one conditional UPDATE, so concurrent approvers or users win exactly once.
 */
export class ApprovalStore {
  private readonly repo: Repository<ApprovalEntity>;

  constructor(
    dataSource: DataSource,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = dataSource.getRepository(ApprovalEntity);
  }

  /** A pending request for this call, reusing the caller's open one for the same digest (repeated calls). */
  async request(call: ApprovalCall): Promise<ApprovalEntity> {
    const now = this.now();
    const open = await this.repo.findOne({
      where: {
        requestedBy: call.requestedBy,
        digest: call.digest,
        status: 'pending',
        requestExpiresAt: MoreThan(now),
      },
      order: { createdAt: 'DESC' },
    });
    if (open) return open;
    await this.repo.delete({ createdAt: LessThan(now - APPROVAL_RETENTION_MS) });
    const row = this.repo.create({
      id: randomUUID(),
      toolName: call.tool,
      target: call.target,
      digest: call.digest,
      arguments: call.args,
      reason: call.reason,
      requestedBy: call.requestedBy,
      plan: call.plan ?? null,
      status: 'pending',
      createdAt: now,
      requestExpiresAt: now + this.ttlMs,
      approvedBy: null,
      approvedAt: null,
      tokenHash: null,
      expiresAt: null,
      usedAt: null,
    });
    // TypeORM's deep-partial type cannot see through the JSON column; the shape is the entity's own
    await this.repo.insert(row as QueryDeepPartialEntity<ApprovalEntity>);
    return row;
  }

  async get(id: string): Promise<ApprovalEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Requests an operator can still approve, newest first. */
  async pending(): Promise<ApprovalEntity[]> {
    return this.repo.find({
      where: { status: 'pending', requestExpiresAt: MoreThan(this.now()) },
      order: { createdAt: 'DESC' },
      take: 100,
    });
  }

  /**
   * Grants a pending request: a new random token, valid for the TTL, bound to the request's digest and caller.
   * The clear token is returned once and never stored.
   */
  async approve(id: string, approver: string): Promise<{ approval: ApprovalEntity; token: string }> {
    const now = this.now();
    const token = `${APPROVAL_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const granted = await this.repo.update(
      { id, status: 'pending', requestExpiresAt: MoreThan(now) },
      {
        status: 'approved',
        tokenHash: hashToken(token),
        approvedBy: approver,
        approvedAt: now,
        expiresAt: now + this.ttlMs,
      },
    );
    const approval = await this.get(id);
    if (granted.affected === 1 && approval) return { approval, token };
    if (!approval) {
      throw new DomainError('NOT_FOUND', `No approval request ${id}`, {
        hint: 'Request ids come from the APPROVAL_REQUIRED answer of the refused call.',
      });
    }
    if (approval.status !== 'pending') {
      throw new DomainError(
        'CONFLICT',
        `Approval request ${id} ${approval.status === 'denied' ? 'was denied by an operator' : 'was already approved'}`,
        {
          hint: 'A token is shown only once. To approve again, the caller repeats the call without a token for a new request.',
        },
      );
    }
    throw new ApprovalExpiredError('CONFLICT', `Approval request ${id} expired before it was approved`, {
      hint: 'The caller repeats the call without a token to create a new request.',
    });
  }

  /**
   * Uses a token for one call. The caller and the digest must be the ones approved; then one conditional UPDATE
   * (`used_at IS NULL AND expires_at > now`) decides, so of many concurrent uses exactly one succeeds.
   * A refused token is left untouched (it stays usable by its rightful caller for its own call).
   */
  async consume(token: string, expected: { digest: string; caller: string }): Promise<ConsumeOutcome> {
    const approval = await this.repo.findOne({ where: { tokenHash: hashToken(token) } });
    if (!approval) return { ok: false, failure: 'unknown' };
    if (approval.requestedBy !== expected.caller)
      return { ok: false, failure: 'APPROVAL_WRONG_CALLER', approval };
    if (approval.digest !== expected.digest) return { ok: false, failure: 'APPROVAL_MISMATCH', approval };
    const now = this.now();
    const used = await this.repo.update(
      { id: approval.id, status: 'approved', usedAt: IsNull(), expiresAt: MoreThan(now) },
      { status: 'used', usedAt: now },
    );
    if (used.affected === 1) return { ok: true, approval: { ...approval, status: 'used', usedAt: now } };
    const current = (await this.get(approval.id)) ?? approval;
    return {
      ok: false,
      failure: current.usedAt !== null ? 'APPROVAL_USED' : 'APPROVAL_EXPIRED',
      approval: current,
    };
  }
}

/** The CONFLICT of approving a request that was still pending but past its lifetime (counted as `expired`). */
export class ApprovalExpiredError extends DomainError {}
