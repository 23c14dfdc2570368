import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { VmAgentController } from './vm-agent.controller.js';
import { VmAgentService } from './vm-agent.service.js';
import { VmLifecycleService } from './vm-lifecycle.service.js';
import { VmPowerController } from './vm-power.controller.js';
import { VmPowerService } from './vm-power.service.js';
import { VmNotesController } from './vm-notes.controller.js';
import { VmDevicesService } from './vm-devices.js';
import { VmsController } from './vms.controller.js';
import { VmsService } from './vms.service.js';

/** VM tools. JobsService comes from the global JobsModule. */
@Module({
  imports: [GuestsModule],
  controllers: [VmsController, VmPowerController, VmAgentController, VmNotesController],
  providers: [VmsService, VmLifecycleService, VmPowerService, VmAgentService, VmDevicesService],
})
export class VmsModule {}
