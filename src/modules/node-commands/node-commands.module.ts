import { Module } from '@nestjs/common';
import { SshModule } from '../../proxmox/ssh/ssh.module.js';
import { NodeCommandsController } from './node-commands.controller.js';
import { NodeCommandsService } from './node-commands.service.js';

/** execute_node_command: commands on Proxmox nodes over SSH, off unless a target enables them. */
@Module({
  imports: [SshModule],
  controllers: [NodeCommandsController],
  providers: [NodeCommandsService],
  exports: [NodeCommandsService],
})
export class NodeCommandsModule {}
