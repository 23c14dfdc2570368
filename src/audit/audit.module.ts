import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditController } from './audit.controller.js';
import { AuditInterceptor } from './audit.interceptor.js';
import { AuditService } from './audit.service.js';
import { AuditChainStore } from './audit-chain.store.js';

/** The audit log; global so the security guards and the approvals code can record events. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity])],
  controllers: [AuditController],
  providers: [AuditService, AuditInterceptor, AuditChainStore],
  exports: [AuditService, AuditInterceptor],
})
export class AuditModule {}
