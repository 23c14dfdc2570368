import { Module } from '@nestjs/common';
import { SshExecutor } from './ssh-executor.js';

/** The SSH executor for commands on Proxmox nodes (`pct exec`); any module that needs the nodes' shell imports it. */
@Module({
  providers: [SshExecutor],
  exports: [SshExecutor],
})
export class SshModule {}
