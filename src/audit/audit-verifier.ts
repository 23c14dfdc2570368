import { chainHash, chainRecordOf, type ChainRecord } from './audit-chain.js';
import type { ChainReader, ChainState } from './audit-chain.store.js';

export const BREAK_KINDS = ['edited', 'deleted', 'reordered', 'truncated', 'inserted'] as const;
export type BreakKind = (typeof BREAK_KINDS)[number];

export interface ChainBreak {
  /** The row where the chain breaks (null when the break is the head record itself). */
  row_id: number | null;
  seq: number | null;
  kind: BreakKind;
  expected: string;
  found: string;
  message: string;
}

export interface ChainVerification {
  ok: boolean;
  rows_checked: number;
  checkpoint: { seq: number; hash: string };
  head: { seq: number; hash: string };
  legacy_rows: number;
  first_break?: ChainBreak;
}

const PAGE = 1000;

/**
 * Walks the chain in id order from the checkpoint to the head. At each row: its hash must match its fields
 * (else edited), its sequence number must be the next one (else deleted, or reordered when the expected number
 * sits on another row), its prev_hash must be the previous row's hash (else that row was edited and re-hashed),
 * and a row without a hash after the chain began was inserted outside it. At the end the last row must be the
 * head record (else the tail was truncated).
 */
export async function verifyChain(reader: ChainReader): Promise<ChainVerification> {
  const state = await reader.state();
  const base = {
    checkpoint: { seq: state.checkpointSeq, hash: state.checkpointHash },
    head: { seq: state.headSeq, hash: state.headHash },
    legacy_rows: await reader.legacyRows(state.legacyMaxId),
  };
  let checked = 0;
  const result = (first_break?: ChainBreak): ChainVerification => ({
    ok: !first_break,
    rows_checked: checked,
    ...base,
    ...(first_break ? { first_break } : {}),
  });

  let expectedSeq = state.checkpointSeq + 1;
  let prevHash = state.checkpointHash;
  let prev: ChainRecord | undefined;
  let afterId = state.legacyMaxId;
  walk: for (;;) {
    const rows = await reader.page(afterId, PAGE);
    for (const raw of rows) {
      afterId = Number(raw.id);
      const row = chainRecordOf(raw);
      if (!row) {
        return result({
          row_id: afterId,
          seq: null,
          kind: 'inserted',
          expected: 'a row of the chain (chain_seq, prev_hash, hash)',
          found: 'a row without a hash',
          message: `row ${afterId} was written outside the chain (by hand, or by a server older than the chain)`,
        });
      }
      if (row.seq <= state.checkpointSeq && row.seq < expectedSeq) continue; // before the checkpoint
      if (row.seq > state.headSeq && expectedSeq > state.headSeq) break walk; // appended after the head we read
      const recomputed = chainHash(row);
      if (recomputed !== row.hash) {
        return result({
          row_id: row.id,
          seq: row.seq,
          kind: 'edited',
          expected: recomputed,
          found: row.hash,
          message: `row ${row.id} (seq ${row.seq}) was changed after it was written: its fields no longer match its hash`,
        });
      }
      if (row.seq !== expectedSeq) {
        const elsewhere = await reader.idOfSeq(expectedSeq);
        const reordered = elsewhere !== undefined || row.seq < expectedSeq;
        return result({
          row_id: row.id,
          seq: row.seq,
          kind: reordered ? 'reordered' : 'deleted',
          expected: `seq ${expectedSeq}`,
          found: `seq ${row.seq}`,
          message: reordered
            ? `row ${row.id} holds seq ${row.seq} where seq ${expectedSeq} belongs${elsewhere !== undefined ? ` (found at row ${elsewhere})` : ''}: rows were reordered`
            : `seq ${expectedSeq}${row.seq > expectedSeq + 1 ? `–${row.seq - 1}` : ''} missing before row ${row.id}: rows were deleted`,
        });
      }
      if (row.prev_hash !== prevHash) {
        return result({
          row_id: prev?.id ?? row.id,
          seq: prev?.seq ?? row.seq,
          kind: 'edited',
          expected: row.prev_hash,
          found: prevHash,
          message: prev
            ? `row ${prev.id} (seq ${prev.seq}) was changed and re-hashed: row ${row.id} still links to its original hash`
            : `row ${row.id} (seq ${row.seq}) does not link to the checkpoint (seq ${state.checkpointSeq})`,
        });
      }
      checked++;
      prev = row;
      prevHash = row.hash;
      expectedSeq++;
    }
    if (rows.length < PAGE) break;
  }
  return result(headBreak(state, expectedSeq - 1, prevHash, prev));
}

function headBreak(
  state: ChainState,
  lastSeq: number,
  lastHash: string,
  last: ChainRecord | undefined,
): ChainBreak | undefined {
  if (lastSeq < state.headSeq) {
    return {
      row_id: last?.id ?? null,
      seq: lastSeq,
      kind: 'truncated',
      expected: `seq ${state.headSeq} (hash ${state.headHash})`,
      found: `seq ${lastSeq} (hash ${lastHash})`,
      message: `the chain ends at seq ${lastSeq} but its head record says ${state.headSeq}: the last ${state.headSeq - lastSeq} row(s) were deleted`,
    };
  }
  if (lastHash !== state.headHash) {
    return {
      row_id: last?.id ?? null,
      seq: lastSeq,
      kind: 'edited',
      expected: state.headHash,
      found: lastHash,
      message: `the last row (seq ${lastSeq}) is not the one the head record names: it was replaced, or the head record was changed`,
    };
  }
  return undefined;
}
