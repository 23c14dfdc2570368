import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApprovalEntity } from './approval.entity.js';
import { ApprovalsController } from './approvals.controller.js';
import { ApprovalsService } from './approvals.service.js';
import { PolicyAudit } from './policy-audit.js';

/**
 * Approvals of high-risk calls and the audit hook of the command policy. The guards themselves (CommandPolicyGuard,
 * ApprovalGuard) are registered as APP_GUARD in AppModule, after the principal guard, which fixes their order.
 * Global so that the MCP transport's elicitation approvals (src/mcp) reach ApprovalsService without importing it.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([ApprovalEntity])],
  controllers: [ApprovalsController],
  providers: [ApprovalsService, PolicyAudit],
  exports: [ApprovalsService, PolicyAudit],
})
export class ApprovalsModule {}
