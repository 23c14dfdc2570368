import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus metrics. Global so the recorders can be injected (optionally) where the events happen: the tool
 * invoker, the Proxmox gateway, the approvals service. With metrics.enabled=false the service records nothing and
 * GET /metrics is not registered (404 like any unknown path).
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      controllers: config.metrics?.enabled === false ? [] : [MetricsController],
      providers: [MetricsService],
      exports: [MetricsService],
    };
  }
}
