import { createHash } from 'node:crypto';

/**
 * The tamper-evident audit chain (docs/security.md, "Tamper-evident audit log"). Every audit row written since
 * the chain was introduced carries its position (`chain_seq`), the previous row's hash (`prev_hash`) and its own
 * hash, SHA-256 over the canonical serialisation below. scripts/verify-audit-export.mjs implements the same
 * algorithm without dependencies; a test keeps the two in agreement.
 */

/** The chain's starting point: the previous hash of the first row of a new chain. */
export const GENESIS_HASH = '0'.repeat(64);
/** First element of every serialisation: changes if the algorithm ever does. */
export const CHAIN_VERSION = 'pmp-audit-v1';

/** Exactly the fields the hash covers (the row id is not among them: ids are only storage order). */
export interface ChainFields {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  args_digest: string | null;
  /** The details column's text exactly as stored (JSON), or null. */
  details_json: string | null;
  prev_hash: string;
}

/**
 * The canonical serialisation: a JSON array (ECMAScript JSON.stringify: no whitespace, strings escaped only
 * where JSON requires it) of the version tag and the fields in this fixed order, as UTF-8.
 */
export function canonicalRow(f: ChainFields): string {
  return JSON.stringify([
    CHAIN_VERSION,
    f.seq,
    f.at,
    f.actor,
    f.action,
    f.target,
    f.outcome,
    f.reason,
    f.args_digest,
    f.details_json,
    f.prev_hash,
  ]);
}

/** Lower-case hex SHA-256 of the canonical serialisation. */
export function chainHash(f: ChainFields): string {
  return createHash('sha256').update(canonicalRow(f), 'utf8').digest('hex');
}

/** One exported row: the hashed fields, the row id and the stored hash (one JSON line of export_audit_log). */
export interface ChainRecord extends ChainFields {
  id: number;
  hash: string;
}

/** A raw audit_events row as the drivers return it (bigint may be a string on PostgreSQL). */
export interface RawAuditRow {
  id: number | string;
  at: number | string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  args_digest: string | null;
  details_json: string | null;
  chain_seq: number | string | null;
  prev_hash: string | null;
  hash: string | null;
}

/** The chained row as exported, or null for a row written outside the chain. */
export function chainRecordOf(row: RawAuditRow): ChainRecord | null {
  if (row.chain_seq === null || row.chain_seq === undefined || row.hash === null || row.prev_hash === null)
    return null;
  return {
    id: Number(row.id),
    seq: Number(row.chain_seq),
    at: Number(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    reason: row.reason,
    args_digest: row.args_digest,
    details_json: row.details_json,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}
