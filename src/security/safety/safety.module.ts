import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FreezeStateEntity } from './freeze-state.entity.js';
import { FreezeService } from './freeze.service.js';
import { SafetyController } from './safety.controller.js';

/**
 * The kill switch (freeze) and protected guests. The guards (FreezeGuard, ProtectionGuard) are registered as
 * APP_GUARD in AppModule (FreezeGuard before the command policy and approvals, ProtectionGuard right after
 * ApprovalGuard, whose deferred approval it wraps); this module provides the freeze state /health reads too.
 */
@Module({
  imports: [TypeOrmModule.forFeature([FreezeStateEntity])],
  controllers: [SafetyController],
  providers: [FreezeService],
  exports: [FreezeService],
})
export class SafetyModule {}
