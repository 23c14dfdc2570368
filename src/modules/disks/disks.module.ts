import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { GuestDisksController } from './guest-disks.controller.js';
import { GuestDisksService } from './guest-disks.service.js';
import { GuestTemplatesController } from './guest-templates.controller.js';
import { GuestTemplatesService } from './guest-templates.service.js';

/** Disks and templates of VMs and containers: resize, move to another storage, convert to a template. */
@Module({
  imports: [GuestsModule],
  controllers: [GuestDisksController, GuestTemplatesController],
  providers: [GuestDisksService, GuestTemplatesService],
})
export class DisksModule {}
