import { Module } from '@nestjs/common';
import { MetricsHistoryController } from './metrics-history.controller.js';
import { MetricsHistoryService } from './metrics-history.service.js';
import { TopGuestsService } from './top-guests.service.js';

/** Metrics history: PVE's RRD data of nodes, guests and storages, and the busiest guests of the cluster. */
@Module({
  controllers: [MetricsHistoryController],
  providers: [MetricsHistoryService, TopGuestsService],
})
export class MetricsHistoryModule {}
