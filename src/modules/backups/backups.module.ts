import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { BackupsController } from './backups.controller.js';
import { BackupsService } from './backups.service.js';

/** Backups and restores. Storage content comes from the guests module; JobsService is global. */
@Module({
  imports: [GuestsModule],
  controllers: [BackupsController],
  providers: [BackupsService],
})
export class BackupsModule {}
