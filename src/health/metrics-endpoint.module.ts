import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { MetricsController } from './metrics.controller.js';

/** GET /metrics. With metrics.enabled=false it is not registered (404 like any unknown path). */
@Module({})
export class MetricsEndpointModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsEndpointModule,
      controllers: config.metrics?.enabled === false ? [] : [MetricsController],
    };
  }
}
