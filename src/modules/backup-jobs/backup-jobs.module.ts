import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { BackupJobsController } from './backup-jobs.controller.js';
import { BackupJobsService } from './backup-jobs.service.js';

/** Scheduled backup jobs and backup coverage. Storage content comes from the guests module; JobsService is global. */
@Module({
  imports: [GuestsModule],
  controllers: [BackupJobsController],
  providers: [BackupJobsService],
})
export class BackupJobsModule {}
