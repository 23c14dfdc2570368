import { Module } from '@nestjs/common';
import { HealthModule } from '../../health/health.module.js';
import { ClusterResourcesService } from './cluster-resources.service.js';
import { ClusterController } from './cluster.controller.js';
import { ClusterService } from './cluster.service.js';

@Module({
  imports: [HealthModule],
  controllers: [ClusterController],
  providers: [ClusterService, ClusterResourcesService],
  exports: [ClusterResourcesService],
})
export class ClusterModule {}
