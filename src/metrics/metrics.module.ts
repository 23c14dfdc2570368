import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';
import { IdleMemoryTrim } from './idle-memory-trim.js';

/**
 * Prometheus metrics. Global so the recorders can be injected (optionally) where the events happen: the tool
 * invoker, the Proxmox gateway, the approvals service, the job store's gauge. GET /metrics itself is served by
 * the health layer (MetricsEndpointModule), above the layers it observes.
 */
@Global()
@Module({ providers: [MetricsService, IdleMemoryTrim], exports: [MetricsService] })
export class MetricsModule {}
