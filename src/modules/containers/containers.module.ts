import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { ContainersController } from './containers.controller.js';
import { ContainersService } from './containers.service.js';

@Module({
  imports: [ClusterModule],
  controllers: [ContainersController],
  providers: [ContainersService],
})
export class ContainersModule {}
