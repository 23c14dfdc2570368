import { Module } from '@nestjs/common';
import { GuestConfigService } from '../../common/guest-config.service.js';
import { GuestNotesService } from '../../common/guest-notes.service.js';
import { HealthModule } from '../../health/health.module.js';
import { ClusterResourcesService } from './cluster-resources.service.js';
import { ClusterController } from './cluster.controller.js';
import { ClusterService } from './cluster.service.js';

@Module({
  imports: [HealthModule],
  controllers: [ClusterController],
  providers: [ClusterService, ClusterResourcesService, GuestConfigService, GuestNotesService],
  exports: [ClusterResourcesService, GuestConfigService, GuestNotesService],
})
export class ClusterModule {}
