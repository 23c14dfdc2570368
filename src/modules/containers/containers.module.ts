import { Module } from '@nestjs/common';
import { SshModule } from '../../proxmox/ssh/ssh.module.js';
import { GuestsModule } from '../guests/guests.module.js';
import { ContainerConfigController } from './container-config.controller.js';
import { ContainerConfigService } from './container-config.service.js';
import { ContainerActionsController } from './container-actions.controller.js';
import { ContainerActionsService } from './container-actions.service.js';
import { ContainerCreateService } from './container-create.service.js';
import { ContainerExecController } from './container-exec.controller.js';
import { ContainerExecService } from './container-exec.service.js';
import { ContainersController } from './containers.controller.js';
import { ContainersService } from './containers.service.js';

/** Container (LXC) tools. JobsService comes from the global JobsModule; SSH from SshModule. */
@Module({
  imports: [GuestsModule, SshModule],
  controllers: [
    ContainersController,
    ContainerActionsController,
    ContainerExecController,
    ContainerConfigController,
  ],
  providers: [
    ContainersService,
    ContainerActionsService,
    ContainerCreateService,
    ContainerConfigService,
    ContainerExecService,
  ],
})
export class ContainersModule {}
