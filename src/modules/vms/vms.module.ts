import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { VmsController } from './vms.controller.js';
import { VmsService } from './vms.service.js';

@Module({
  imports: [ClusterModule],
  controllers: [VmsController],
  providers: [VmsService],
})
export class VmsModule {}
