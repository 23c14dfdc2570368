import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { IsosModule } from '../isos/isos.module.js';
import { BackupsController } from './backups.controller.js';
import { BackupsService } from './backups.service.js';

/** Backups and restores. Storage content comes from the ISO module's reader; JobsService is global. */
@Module({
  imports: [ClusterModule, IsosModule],
  controllers: [BackupsController],
  providers: [BackupsService],
})
export class BackupsModule {}
