import { Module } from '@nestjs/common';
import { HaMoveController } from './ha-move.controller.js';
import { HaMoveService } from './ha-move.service.js';
import { HaRulesController } from './ha-rules.controller.js';
import { HaRulesService } from './ha-rules.service.js';
import { HaController } from './ha.controller.js';
import { HaService } from './ha.service.js';

/**
 * High availability: the HA manager's status, the HA resources (which guests HA keeps running), moving them
 * through the HA manager, and the PVE 9 HA rules (node and resource affinity).
 */
@Module({
  controllers: [HaController, HaMoveController, HaRulesController],
  providers: [HaService, HaMoveService, HaRulesService],
})
export class HaModule {}
