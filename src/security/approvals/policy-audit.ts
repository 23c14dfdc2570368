import { Injectable, Logger, Optional } from '@nestjs/common';
import { AuditService, type AuditRecord } from '../../audit/audit.service.js';

/**
 * Where the command policy and the approval flow write their decisions: the audit log (AuditService redacts
 * and never throws). Actions: the tool name for a refused call (`denied` by the command policy,
 * `approval_required`), `approval.consume`, `approval.approve`, `approval.audit_only`, `approval.static_token`,
 * `approval.waived_by_policy`.
 * Without an AuditModule (unit setups) the decision goes to the log instead.
 */
@Injectable()
export class PolicyAudit {
  private readonly logger = new Logger('PolicyAudit');

  constructor(@Optional() private readonly auditService?: AuditService) {}

  async record(event: AuditRecord): Promise<void> {
    if (this.auditService) return this.auditService.record(event);
    this.logger.log(`${event.action}: ${event.outcome} (${event.reason ?? '-'})`);
  }
}
