import { randomBytes, randomUUID } from 'node:crypto';
import { MoreThan, type DataSource, type Repository } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error.js';
import { epochMs, jsonText } from '../../common/persistence/column-transformers.js';
import { onSqliteIdle, pgSql, prepared } from '../../common/persistence/raw-sql.js';
import { APPROVAL_TOKEN_PREFIX } from '../../common/redaction/redactor.js';
import type { ApprovalTokenFailure } from '../policy-codes.js';
import { hashToken } from './approval-digest.js';
import { ApprovalEntity, type ApprovalStatus } from './approval.entity.js';

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
 *
 * The request/approve/consume path is on every approval-gated call, so it uses fixed SQL (prepared once on
 * SQLite, parameterised on PostgreSQL; see raw-sql.ts) instead of TypeORM's query builder, and the conditional
 * UPDATEs return the row they changed (RETURNING) instead of reading it again. Rows map to the same
 * ApprovalEntity TypeORM builds (approvalOf below mirrors the entity's column transformers).
 */
export class ApprovalStore {
  private readonly repo: Repository<ApprovalEntity>;
  private readonly pg: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = dataSource.getRepository(ApprovalEntity);
    this.pg = dataSource.options.type === 'postgres';
  }

  /** A pending request for this call, reusing the caller's open one for the same digest (repeated calls). */
  async request(call: ApprovalCall): Promise<ApprovalEntity> {
    const now = this.now();
    const row = Object.assign(new ApprovalEntity(), {
      id: randomUUID(),
      toolName: call.tool,
      target: call.target,
      digest: call.digest,
      arguments: call.args,
      reason: call.reason,
      requestedBy: call.requestedBy,
      status: 'pending',
      createdAt: now,
      requestExpiresAt: now + this.ttlMs,
      approvedBy: null,
      approvedAt: null,
      tokenHash: null,
      expiresAt: null,
      usedAt: null,
      plan: call.plan ?? null,
    } satisfies ApprovalEntity);
    const insert: unknown[] = [
      row.id,
      row.toolName,
      row.target,
      row.digest,
      jsonText.to(row.arguments),
      row.reason,
      row.requestedBy,
      row.status,
      row.createdAt,
      row.requestExpiresAt,
      jsonText.to(row.plan),
    ];
    const openParams = [call.requestedBy, call.digest, now];
    const cutoff = now - APPROVAL_RETENTION_MS;
    if (!this.pg) {
      // the three statements run back to back, synchronously (nothing of this process runs in between)
      return onSqliteIdle(this.dataSource, (db) => {
        const open = prepared(db, SQL.open).get(...openParams) as RawApproval | undefined;
        if (open) return approvalOf(open);
        prepared(db, SQL.prune).run(cutoff);
        prepared(db, SQL.insert).run(...insert);
        return row;
      });
    }
    const [open] = await this.dataSource.query<RawApproval[]>(PG.open, openParams);
    if (open) return approvalOf(open);
    await this.dataSource.query(PG.prune, [cutoff]);
    await this.dataSource.query(PG.insert, insert);
    return row;
  }

  async get(id: string): Promise<ApprovalEntity | null> {
    const [raw] = await this.rows(SQL.byId, PG.byId, [id]);
    return raw ? approvalOf(raw) : null;
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
    // the conditional UPDATE decides and returns the granted row; only a refusal reads the row to explain it
    const [granted] = await this.rows(SQL.approve, PG.approve, [
      hashToken(token),
      approver,
      now,
      now + this.ttlMs,
      id,
      now,
    ]);
    if (granted) return { approval: approvalOf(granted), token };
    const approval = await this.get(id);
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
    const tokenHash = hashToken(token);
    const now = this.now();
    // The usual case in one statement: the token's row, if it is this caller's, for this digest, approved, unused
    // and unexpired, is marked used and returned. Any other case changes nothing and is explained below.
    const [used] = await this.rows(SQL.consume, PG.consume, [
      now,
      tokenHash,
      expected.caller,
      expected.digest,
      now,
    ]);
    if (used) return { ok: true, approval: approvalOf(used) };
    const [raw] = await this.rows(SQL.byTokenHash, PG.byTokenHash, [tokenHash]);
    if (!raw) return { ok: false, failure: 'unknown' };
    const approval = approvalOf(raw);
    if (approval.requestedBy !== expected.caller)
      return { ok: false, failure: 'APPROVAL_WRONG_CALLER', approval };
    if (approval.digest !== expected.digest) return { ok: false, failure: 'APPROVAL_MISMATCH', approval };
    return { ok: false, failure: approval.usedAt !== null ? 'APPROVAL_USED' : 'APPROVAL_EXPIRED', approval };
  }

  /** The rows of one statement (a SELECT, or an UPDATE … RETURNING) on either driver. */
  private async rows(sqlite: string, pg: string, params: unknown[]): Promise<RawApproval[]> {
    if (!this.pg)
      return onSqliteIdle(this.dataSource, (db) => prepared(db, sqlite).all(...params) as RawApproval[]);
    const result = await this.dataSource.query<unknown[]>(pg, params);
    // TypeORM answers an UPDATE on PostgreSQL with [rows, affectedCount], a SELECT with the rows
    return (Array.isArray(result[0]) ? result[0] : result) as RawApproval[];
  }
}

/** The CONFLICT of approving a request that was still pending but past its lifetime (counted as `expired`). */
export class ApprovalExpiredError extends DomainError {}

/** The approvals row as the drivers return it (bigint may be a string on PostgreSQL; JSON columns are text). */
interface RawApproval {
  id: string;
  tool_name: string;
  target: string;
  digest: string;
  arguments_json: string;
  reason: string;
  requested_by: string;
  status: ApprovalStatus;
  created_at: number | string;
  request_expires_at: number | string;
  approved_by: string | null;
  approved_at: number | string | null;
  token_hash: string | null;
  expires_at: number | string | null;
  used_at: number | string | null;
  plan_json: string | null;
}

const COLUMNS =
  'id, tool_name, target, digest, arguments_json, reason, requested_by, status, created_at, request_expires_at, ' +
  'approved_by, approved_at, token_hash, expires_at, used_at, plan_json';

/** The hot-path statements (`?` placeholders; PG holds the PostgreSQL texts). */
const SQL = {
  /** The caller's open request for the same call, newest first (idx_approvals_requester_digest). */
  open:
    `SELECT ${COLUMNS} FROM approvals WHERE requested_by = ? AND digest = ? AND status = 'pending' ` +
    'AND request_expires_at > ? ORDER BY created_at DESC LIMIT 1',
  prune: 'DELETE FROM approvals WHERE created_at < ?',
  insert:
    'INSERT INTO approvals (id, tool_name, target, digest, arguments_json, reason, requested_by, status, ' +
    'created_at, request_expires_at, plan_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  byId: `SELECT ${COLUMNS} FROM approvals WHERE id = ?`,
  byTokenHash: `SELECT ${COLUMNS} FROM approvals WHERE token_hash = ?`,
  approve:
    "UPDATE approvals SET status = 'approved', token_hash = ?, approved_by = ?, approved_at = ?, expires_at = ? " +
    `WHERE id = ? AND status = 'pending' AND request_expires_at > ? RETURNING ${COLUMNS}`,
  consume:
    "UPDATE approvals SET status = 'used', used_at = ? WHERE token_hash = ? AND requested_by = ? AND digest = ? " +
    `AND status = 'approved' AND used_at IS NULL AND expires_at > ? RETURNING ${COLUMNS}`,
};
const PG = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, pgSql(v)])) as typeof SQL;

// the entity's own column transformers, so a row read here converts exactly as TypeORM converts it
const epochMsOf = (v: number | string): number => epochMs.from(v) as number;
const epochMsOrNull = (v: number | string | null): number | null => epochMs.from(v) as number | null;
const jsonOf = <T>(v: string | null): T => jsonText.from(v) as T;

/** A raw row as the entity TypeORM would build (same transformers: epochMs, jsonText; same property order). */
function approvalOf(r: RawApproval): ApprovalEntity {
  return Object.assign(new ApprovalEntity(), {
    id: r.id,
    toolName: r.tool_name,
    target: r.target,
    digest: r.digest,
    arguments: jsonOf<Record<string, unknown>>(r.arguments_json),
    reason: r.reason,
    requestedBy: r.requested_by,
    status: r.status,
    createdAt: epochMsOf(r.created_at),
    requestExpiresAt: epochMsOf(r.request_expires_at),
    approvedBy: r.approved_by,
    approvedAt: epochMsOrNull(r.approved_at),
    tokenHash: r.token_hash,
    expiresAt: epochMsOrNull(r.expires_at),
    usedAt: epochMsOrNull(r.used_at),
    plan: jsonOf<Record<string, unknown> | null>(r.plan_json),
  } satisfies ApprovalEntity);
}
