import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { IsosController } from './isos.controller.js';
import { IsosService } from './isos.service.js';
import { StorageContentService } from './storage-content.service.js';

/** ISO images and container templates. StorageContentService is shared with the backups module. */
@Module({
  imports: [ClusterModule],
  controllers: [IsosController],
  providers: [IsosService, StorageContentService],
  exports: [StorageContentService],
})
export class IsosModule {}
