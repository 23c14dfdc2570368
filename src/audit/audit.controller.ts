import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DomainError } from '../common/errors/domain-error.js';
import type { Principal } from '../common/tools/tool-definition.js';
import { McpTool } from '../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../common/tools/toolsets.js';
import { AuditService } from './audit.service.js';
import { AuditEventListDto, AuditQueryDto } from './dto/audit.dto.js';
import { AuditExportDto, AuditExportQueryDto, AuditVerifyDto } from './dto/audit-chain.dto.js';
import { auditExportText, auditVerifyText, writeAuditExport } from './audit-export.js';

export function auditListText(r: AuditEventListDto): string {
  if (r.events.length === 0)
    return r.total ? `No audit events on this page (${r.total} in all)` : 'No audit events';
  const lines = r.events.map(
    (e) =>
      `${e.at}  ${e.outcome.padEnd(17)} ${e.action.padEnd(20)} ${e.actor ?? '-'}${e.target ? ` @${e.target}` : ''}${e.reason ? ` — ${e.reason}` : ''}`,
  );
  if (r.next_offset !== undefined) lines.push(`… more (offset ${r.next_offset})`);
  return [`Audit events (${r.total})`, ...lines].join('\n');
}

@ApiTags('audit')
@McpToolset('admin')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('audit/events')
  @McpTool({
    name: 'list_audit_events',
    title: 'List audit events',
    description:
      'The security audit log, newest first: mutating tool calls and every refusal (authentication, scope, exposure, policy, approval) with who, which target, an arguments digest and the outcome. Filter by actor, action, outcome, target, since; page with limit/offset. Admin keys only.',
    risk: 'read',
    privileges: [],
    scope: 'admin',
    output: AuditEventListDto,
    text: auditListText,
  })
  listAuditEvents(@Query() q: AuditQueryDto): Promise<AuditEventListDto> {
    return this.audit.list({
      ...q,
      since: q.since === undefined ? undefined : Date.parse(q.since),
    });
  }

  @Get('audit/verify')
  @McpTool({
    name: 'verify_audit_log',
    title: 'Verify the audit log hash chain',
    description:
      'Walks the tamper-evident audit log (every row carries the SHA-256 of the previous one) from its checkpoint to its head and reports ok, how many rows were checked, and the first broken link: the row, expected vs found, and the kind (edited, deleted, reordered, truncated, inserted). Admin keys only.',
    risk: 'read',
    privileges: [],
    scope: 'admin',
    output: AuditVerifyDto,
    text: auditVerifyText,
  })
  verifyAuditLog(): Promise<AuditVerifyDto> {
    return this.audit.verify();
  }

  @Get('audit/export')
  @McpTool({
    name: 'export_audit_log',
    title: 'Export the audit log hash chain',
    description:
      'One page of the hash-chained audit log in chain order, as JSON lines an external system verifies with the documented algorithm (scripts/verify-audit-export.mjs), with the range, count, the previous and the last hash. Page with after_id/limit; GET /audit/export.ndjson downloads it all. Admin keys only.',
    risk: 'read',
    privileges: [],
    scope: 'admin',
    output: AuditExportDto,
    text: auditExportText,
  })
  exportAuditLog(@Query() q: AuditExportQueryDto): Promise<AuditExportDto> {
    return this.audit.exportPage(q.after_id, q.limit);
  }

  @Get('audit/export.ndjson')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({
    summary:
      'Download the whole hash-chained audit log from its checkpoint as JSON lines (admin); verify it with scripts/verify-audit-export.mjs',
  })
  async downloadAuditLog(
    @Query() q: AuditExportQueryDto,
    @Req() req: { principal?: Principal },
    @Res() res: Response,
  ): Promise<void> {
    // not a tool, so the scope is checked here (as for the approvals routes), and a refusal is audited
    if (req.principal?.scope !== 'admin') {
      const message = `GET /audit/export.ndjson needs an API key with scope 'admin'; the key '${req.principal?.name ?? '?'}' has scope '${req.principal?.scope ?? 'none'}'`;
      await this.audit.record({
        actor: req.principal?.name,
        action: 'route.access',
        outcome: 'denied',
        reason: `scope: ${message}`,
        details: { route: 'GET /audit/export.ndjson' },
      });
      throw new DomainError('FORBIDDEN', message);
    }
    return writeAuditExport(this.audit, q.after_id, res);
  }
}
