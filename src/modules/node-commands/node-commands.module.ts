import { Module } from '@nestjs/common';
import { SshModule } from '../../proxmox/ssh/ssh.module.js';
import { NodeCommandsController } from './node-commands.controller.js';
import { NodeCommandsService } from './node-commands.service.js';

/** execute_node_command. NodeCommandGuard is registered as an APP_GUARD by AppModule (before approvals). */
@Module({
  imports: [SshModule],
  controllers: [NodeCommandsController],
  providers: [NodeCommandsService],
  exports: [NodeCommandsService],
})
export class NodeCommandsModule {}
