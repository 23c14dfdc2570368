import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { NoRateLimit } from '../security/rate-limit.guard.js';
import { RequireScope } from '../security/scopes.js';
import { METRICS_CONTENT_TYPE, MetricsService } from '../metrics/metrics.service.js';

/**
 * GET /metrics in the Prometheus text format. Authenticated like every route but /livez (any key scope may
 * scrape); not rate limited, like the health probes, so a scraper never eats a key's tool budget. Not in the
 * OpenAPI document: it is for monitoring, not for API clients (as in the reference).
 */
@ApiExcludeController()
@NoRateLimit()
@RequireScope('read')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
