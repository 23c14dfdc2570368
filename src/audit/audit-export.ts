import type { Response } from 'express';
import type { AuditService } from './audit.service.js';
import type { AuditChainRecordDto, AuditExportDto, AuditVerifyDto } from './dto/audit-chain.dto.js';

/** One JSON line of an export: the record's fields in a fixed order. */
export function exportLine(r: AuditChainRecordDto): string {
  return JSON.stringify({
    id: r.id,
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    reason: r.reason,
    args_digest: r.args_digest,
    details_json: r.details_json,
    prev_hash: r.prev_hash,
    hash: r.hash,
  });
}

export function auditVerifyText(r: AuditVerifyDto): string {
  const legacy = r.legacy_rows ? `; ${r.legacy_rows} row(s) from before the chain are not covered` : '';
  const range = `checkpoint seq ${r.checkpoint.seq}, head seq ${r.head.seq} (${r.head.hash})`;
  if (r.ok) return `Audit chain OK: ${r.rows_checked} row(s) checked, ${range}${legacy}`;
  const b = r.first_break!;
  return [
    `Audit chain BROKEN (${b.kind}) at row ${b.row_id ?? '-'}${b.seq !== null ? ` (seq ${b.seq})` : ''}: ${b.message}`,
    `  expected ${b.expected}`,
    `  found    ${b.found}`,
    `${r.rows_checked} row(s) verified before the break; ${range}${legacy}`,
  ].join('\n');
}

export function auditExportText(r: AuditExportDto): string {
  if (r.count === 0)
    return `Audit export: no rows after the checkpoint (seq ${r.checkpoint.seq}, head seq ${r.head.seq})`;
  const head = [
    `Audit export: ${r.count} row(s), ids ${r.first_id}–${r.last_id}, seq ${r.first_seq}–${r.last_seq}; prev_hash ${r.prev_hash}; last hash ${r.last_hash}` +
      (r.next_after_id !== undefined ? `; more: after_id=${r.next_after_id}` : ''),
  ];
  return [...head, ...r.records.map(exportLine)].join('\n');
}

/** GET /audit/export.ndjson: the whole chain from the checkpoint (or after_id), streamed page by page. */
export async function writeAuditExport(
  audit: AuditService,
  afterId: number | undefined,
  res: Response,
): Promise<void> {
  let started = false;
  try {
    for await (const record of audit.exportAll(afterId)) {
      if (!started) {
        started = true;
        res.status(200);
        res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
        res.setHeader('Content-Disposition', 'attachment; filename="audit-log.ndjson"');
        res.setHeader('Cache-Control', 'no-store');
      }
      if (!res.write(`${exportLine(record)}\n`)) await new Promise((resolve) => res.once('drain', resolve));
    }
  } catch (error) {
    if (!started) throw error;
    // the status line has gone: end the body early; the verifier then reports a broken or short file
    res.destroy();
    return;
  }
  if (!started) {
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit-log.ndjson"');
    res.setHeader('Cache-Control', 'no-store');
  }
  res.end();
}
