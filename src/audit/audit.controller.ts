import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { McpTool } from '../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../common/tools/toolsets.js';
import { AuditService } from './audit.service.js';
import { AuditEventListDto, AuditQueryDto } from './dto/audit.dto.js';

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
}
