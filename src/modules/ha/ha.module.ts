import { Module } from '@nestjs/common';
import { HaController } from './ha.controller.js';
import { HaService } from './ha.service.js';

/** High availability: the HA manager's status and the HA resources (which guests HA keeps running). */
@Module({
  controllers: [HaController],
  providers: [HaService],
})
export class HaModule {}
