import { Module } from '@nestjs/common';
import { HealthModule } from '../../health/health.module.js';
import { ClusterController } from './cluster.controller.js';
import { ClusterService } from './cluster.service.js';

@Module({
  imports: [HealthModule],
  controllers: [ClusterController],
  providers: [ClusterService],
})
export class ClusterModule {}
