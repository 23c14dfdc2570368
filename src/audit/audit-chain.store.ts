import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { onSqliteIdle, pgSql, prepared, type SqliteDb } from '../common/persistence/raw-sql.js';
import { chainHash, type ChainFields, type RawAuditRow } from './audit-chain.js';

/** The row fields a caller records (already redacted and cut to size): the hashed fields but the chain's own. */
export type ChainedInsert = Omit<ChainFields, 'seq' | 'prev_hash'>;

export interface ChainState {
  legacyMaxId: number;
  checkpointSeq: number;
  checkpointHash: string;
  headSeq: number;
  headHash: string;
  prunedAt: number | null;
}

interface RawChainRow {
  legacy_max_id: number | string;
  checkpoint_seq: number | string;
  checkpoint_hash: string;
  head_seq: number | string;
  head_hash: string;
  pruned_at: number | string | null;
}

type AppendResult = { seq: number; hash: string };

const HEAD_SQL =
  'SELECT legacy_max_id, checkpoint_seq, checkpoint_hash, head_seq, head_hash, pruned_at FROM audit_chain WHERE id = 1';
const INSERT_SQL =
  'INSERT INTO audit_events (at, actor, action, target, outcome, reason, args_digest, details_json, chain_seq, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const HEAD_UPDATE_SQL = 'UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE id = 1';
/** The same statements for PostgreSQL, converted once. */
const PG_INSERT_SQL = pgSql(INSERT_SQL);
const PG_HEAD_UPDATE_SQL = pgSql(HEAD_UPDATE_SQL);
const ROW_COLUMNS =
  'id, at, actor, action, target, outcome, reason, args_digest, details_json, chain_seq, prev_hash, hash';

/**
 * Writes and reads the audit hash chain with one chain for all replicas: every insert locks the chain's head
 * row in its own transaction (PostgreSQL: SELECT … FOR UPDATE; SQLite: an IMMEDIATE transaction, which takes the
 * database's write lock), reads the head, inserts the row with the next sequence number and the head's hash as
 * prev_hash, and moves the head. Pruning takes the same lock and moves the checkpoint.
 */
@Injectable()
export class AuditChainStore {
  private readonly pg: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.pg = dataSource.options.type === 'postgres';
  }

  /** The SQLite append transaction per handle, built once (its statements are prepared once too). */
  private readonly sqliteAppend = new WeakMap<SqliteDb, { immediate(row: ChainedInsert): AppendResult }>();

  async append(row: ChainedInsert): Promise<AppendResult> {
    if (!this.pg) {
      return onSqliteIdle(this.dataSource, (db) => {
        let append = this.sqliteAppend.get(db);
        if (!append) {
          append = db.transaction((r: ChainedInsert) => {
            const head = stateOf(prepared(db, HEAD_SQL).get() as RawChainRow);
            const next = link(head, r);
            prepared(db, INSERT_SQL).run(...insertParams(r, next));
            prepared(db, HEAD_UPDATE_SQL).run(next.seq, next.hash);
            return { seq: next.seq, hash: next.hash };
          });
          this.sqliteAppend.set(db, append);
        }
        return append.immediate(row);
      });
    }
    return this.dataSource.transaction(async (m) => {
      const head = stateOf((await m.query<RawChainRow[]>(`${HEAD_SQL} FOR UPDATE`))[0]);
      const next = link(head, row);
      await m.query(PG_INSERT_SQL, insertParams(row, next));
      await m.query(PG_HEAD_UPDATE_SQL, [next.seq, next.hash]);
      return { seq: next.seq, hash: next.hash };
    });
  }

  /**
   * Deletes the oldest rows of the chain, those older than `cutoff` up to the first row that is not (a prefix, so
   * the chain stays contiguous), and rows written outside the chain older than `cutoff`; the last deleted chained
   * row becomes the checkpoint verification starts from. Returns how many rows were deleted.
   */
  async prune(cutoff: number, now: number): Promise<number> {
    if (!this.pg) {
      return onSqliteIdle(this.dataSource, (db) =>
        db
          .transaction(() => {
            const state = stateOf(db.prepare(HEAD_SQL).get() as RawChainRow);
            const firstKept = db
              .prepare('SELECT MIN(chain_seq) AS s FROM audit_events WHERE chain_seq > ? AND at >= ?')
              .get(state.checkpointSeq, cutoff) as { s: number | null };
            const last = lastPruned(state, firstKept.s);
            let deleted = db
              .prepare('DELETE FROM audit_events WHERE chain_seq IS NULL AND at < ?')
              .run(cutoff).changes;
            if (last === undefined) return deleted;
            const anchor = db.prepare('SELECT hash FROM audit_events WHERE chain_seq = ?').get(last) as
              { hash: string } | undefined;
            if (!anchor) return deleted; // the row is missing: leave the evidence for verify_audit_log
            deleted += db.prepare('DELETE FROM audit_events WHERE chain_seq <= ?').run(last).changes;
            db.prepare(
              'UPDATE audit_chain SET checkpoint_seq = ?, checkpoint_hash = ?, pruned_at = ? WHERE id = 1',
            ).run(last, anchor.hash, now);
            return deleted;
          })
          .immediate(),
      );
    }
    return this.dataSource.transaction(async (m) => {
      const state = stateOf((await m.query<RawChainRow[]>(`${HEAD_SQL} FOR UPDATE`))[0]);
      const [firstKept] = await m.query<Array<{ s: string | number | null }>>(
        'SELECT MIN(chain_seq) AS s FROM audit_events WHERE chain_seq > $1 AND at >= $2',
        [state.checkpointSeq, cutoff],
      );
      const last = lastPruned(state, firstKept?.s == null ? null : Number(firstKept.s));
      let deleted = await deleteCount(m, 'DELETE FROM audit_events WHERE chain_seq IS NULL AND at < $1', [
        cutoff,
      ]);
      if (last === undefined) return deleted;
      const [anchor] = await m.query<
        Array<{
          hash: string;
        }>
      >('SELECT hash FROM audit_events WHERE chain_seq = $1', [last]);
      if (!anchor) return deleted;
      deleted += await deleteCount(m, 'DELETE FROM audit_events WHERE chain_seq <= $1', [last]);
      await m.query(
        'UPDATE audit_chain SET checkpoint_seq = $1, checkpoint_hash = $2, pruned_at = $3 WHERE id = 1',
        [last, anchor.hash, now],
      );
      return deleted;
    });
  }

  async state(): Promise<ChainState> {
    return stateOf((await this.dataSource.query<RawChainRow[]>(HEAD_SQL))[0]);
  }

  /**
   * Runs `work` on one consistent view of the chain where the database gives one cheaply (PostgreSQL: a
   * REPEATABLE READ transaction); on SQLite it runs on the shared connection (rows appended meanwhile are past
   * the head read first, and the walk stops at that head).
   */
  async snapshot<T>(work: (reader: ChainReader) => Promise<T>): Promise<T> {
    if (!this.pg) return work(new ChainReader(this.dataSource.manager, false));
    return this.dataSource.transaction('REPEATABLE READ', (m) => work(new ChainReader(m, true)));
  }
}

/** Read queries of a verification or export, inside AuditChainStore.snapshot. */
export class ChainReader {
  constructor(
    private readonly m: EntityManager,
    private readonly pg: boolean,
  ) {}

  async state(): Promise<ChainState> {
    return stateOf((await this.m.query<RawChainRow[]>(HEAD_SQL))[0]);
  }

  /** Rows after `afterId` (ids above the legacy rows), in id order. */
  async page(afterId: number, limit: number): Promise<RawAuditRow[]> {
    return await this.m.query<RawAuditRow[]>(
      this.sql(`SELECT ${ROW_COLUMNS} FROM audit_events WHERE id > ? ORDER BY id LIMIT ?`),
      [afterId, limit],
    );
  }

  /** The id of the row holding sequence number `seq`, if any. */
  async idOfSeq(seq: number): Promise<number | undefined> {
    const [row] = await this.m.query<Array<{ id: number | string }>>(
      this.sql('SELECT id FROM audit_events WHERE chain_seq = ? LIMIT 1'),
      [seq],
    );
    return row ? Number(row.id) : undefined;
  }

  async legacyRows(legacyMaxId: number): Promise<number> {
    const [row] = await this.m.query<Array<{ n: number | string }>>(
      this.sql('SELECT COUNT(*) AS n FROM audit_events WHERE id <= ?'),
      [legacyMaxId],
    );
    return Number(row?.n ?? 0);
  }

  private sql(text: string): string {
    return this.pg ? pgSql(text) : text;
  }
}

function link(head: ChainState, row: ChainedInsert): { seq: number; prev: string; hash: string } {
  const seq = head.headSeq + 1;
  const prev = head.headHash;
  return { seq, prev, hash: chainHash({ ...row, seq, prev_hash: prev }) };
}

function insertParams(row: ChainedInsert, next: { seq: number; prev: string; hash: string }): unknown[] {
  return [
    row.at,
    row.actor,
    row.action,
    row.target,
    row.outcome,
    row.reason,
    row.args_digest,
    row.details_json,
    next.seq,
    next.prev,
    next.hash,
  ];
}

/** The last sequence number pruning may delete, or undefined when nothing of the chain is old enough. */
function lastPruned(state: ChainState, firstKept: number | null): number | undefined {
  const last = firstKept === null ? state.headSeq : firstKept - 1;
  return last > state.checkpointSeq ? last : undefined;
}

function stateOf(raw: RawChainRow | undefined): ChainState {
  if (!raw) throw new Error('the audit_chain head row is missing');
  return {
    legacyMaxId: Number(raw.legacy_max_id),
    checkpointSeq: Number(raw.checkpoint_seq),
    checkpointHash: raw.checkpoint_hash,
    headSeq: Number(raw.head_seq),
    headHash: raw.head_hash,
    prunedAt: raw.pruned_at === null ? null : Number(raw.pruned_at),
  };
}

async function deleteCount(m: EntityManager, sql: string, params: unknown[]): Promise<number> {
  // node-postgres through TypeORM answers a DELETE with [rows, affectedCount]
  const result = await m.query<unknown>(sql, params);
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
