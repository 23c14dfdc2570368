import { Module } from '@nestjs/common';
import { GuestConfigService } from '../../common/guest-config.service.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { ContainersController } from './containers.controller.js';
import { ContainersService } from './containers.service.js';

@Module({
  imports: [ClusterModule],
  controllers: [ContainersController],
  providers: [ContainersService, GuestConfigService],
})
export class ContainersModule {}
