import { Module } from '@nestjs/common';
import { HealthModule } from '../../health/health.module.js';
import { ClusterController } from './cluster.controller.js';
import { ClusterService } from './cluster.service.js';
import { PoolsService } from './pools.service.js';

@Module({
  imports: [HealthModule],
  controllers: [ClusterController],
  providers: [ClusterService, PoolsService],
})
export class ClusterModule {}
