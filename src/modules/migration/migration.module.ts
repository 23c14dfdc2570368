import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { MigrationController } from './migration.controller.js';
import { MigrationService } from './migration.service.js';

/** Moving VMs and containers to another node of the cluster. */
@Module({
  imports: [GuestsModule],
  controllers: [MigrationController],
  providers: [MigrationService],
})
export class MigrationModule {}
