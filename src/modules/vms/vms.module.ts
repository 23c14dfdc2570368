import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { VmAgentController } from './vm-agent.controller.js';
import { VmAgentService } from './vm-agent.service.js';
import { VmLifecycleService } from './vm-lifecycle.service.js';
import { VmPowerController } from './vm-power.controller.js';
import { VmPowerService } from './vm-power.service.js';
import { VmNotesController } from './vm-notes.controller.js';
import { VmDevicesService } from './vm-devices.js';
import { VmStateReader } from './vm-state.js';
import { VmsController } from './vms.controller.js';
import { VmsService } from './vms.service.js';

/** VM tools. JobsService comes from the global JobsModule. */
@Module({
  imports: [ClusterModule],
  controllers: [VmsController, VmPowerController, VmAgentController, VmNotesController],
  providers: [
    VmsService,
    VmLifecycleService,
    VmPowerService,
    VmAgentService,
    VmStateReader,
    VmDevicesService,
  ],
  exports: [VmStateReader],
})
export class VmsModule {}
