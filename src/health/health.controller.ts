import { NoRateLimit } from '../security/rate-limit.guard.js';
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { SERVER_INFO, type ServerInfo } from '../mcp/server-info.js';
import { JobsStore } from '../jobs/jobs.store.js';
import { HealthService } from './health.service.js';
import { securityWarnings } from './security-warnings.js';
import { FreezeService } from '../security/safety/freeze.service.js';
import { OAuthService } from '../security/oauth/oauth.service.js';

/**
 * /livez: the process answers. /readyz: every target's PVE answers and the job store works (on SQLite an
 * integrity check; a failing store is reported, not fatal). /health: the details behind both.
 */
@ApiTags('health')
// liveness/readiness probes must never be throttled into looking like an outage
@NoRateLimit()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly jobStore: JobsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SERVER_INFO) private readonly info: ServerInfo,
    private readonly freeze: FreezeService,
    private readonly oauth: OAuthService,
  ) {}

  /** The kill switch as probes show it: frozen or not, why and from where (never fails the probe itself). */
  private async freezeView(): Promise<object> {
    try {
      const s = await this.freeze.status();
      return s.frozen
        ? { frozen: true, reason: s.reason, source: s.source, frozen_by: s.frozen_by, since: s.since }
        : { frozen: false };
    } catch {
      return { frozen: null, error: 'the freeze state cannot be read from the job store' };
    }
  }

  @Get('livez')
  @ApiOperation({ operationId: 'livez', summary: 'Liveness (no authentication)' })
  livez(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({
    operationId: 'readyz',
    summary: 'Readiness: 200 when every target PVE answers and the job store works, else 503',
  })
  async readyz(@Res({ passthrough: true }) res: Response): Promise<object> {
    const [targets, jobs, freeze, oauth] = await Promise.all([
      this.health.probeAll(),
      this.jobStore.health(),
      this.freezeView(),
      this.oauth.health(), // auth.oauth: the issuers' keys can be fetched (else no token can be checked)
    ]);
    const ready = targets.every((t) => t.reachable) && jobs.ok && (oauth?.ok ?? true);
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    // a freeze does not make the server unready: reads still work, and a restart would not lift it
    return {
      status: ready ? 'ok' : 'unavailable',
      targets,
      job_store: jobs,
      freeze,
      ...(oauth ? { oauth } : {}),
    };
  }

  @Get('health')
  @ApiOperation({ operationId: 'health', summary: 'Health details (targets, auth mode, warnings)' })
  async details(@Res({ passthrough: true }) res: Response): Promise<object> {
    const [targets, jobs, freeze] = await Promise.all([
      this.health.probeAll(),
      this.jobStore.health(),
      this.freezeView(),
    ]);
    const ready = targets.every((t) => t.reachable) && jobs.ok;
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'ok' : 'degraded',
      job_store: jobs,
      name: this.info.name,
      version: this.info.version,
      uptime_seconds: Math.round((Date.now() - this.health.startedAt) / 1000),
      config_source: this.config.source.kind,
      targets,
      auth: {
        // the reference's two fields: a key is configured, and every request must then carry one
        api_key_configured: this.config.http.apiKeys.length > 0,
        strict_auth: this.config.http.apiKeys.length > 0,
        api_keys_configured: this.config.http.apiKeys.length,
        allow_no_auth: this.config.http.allowNoAuth,
        // auth.oauth: tokens of these issuers are accepted; api_keys false = keys are not
        ...(this.config.oauth
          ? {
              oauth: {
                issuers: this.config.oauth.issuers,
                resource: this.config.oauth.resource,
                api_keys: this.config.oauth.apiKeys,
              },
            }
          : {}),
      },
      rate_limit: {
        enabled: this.config.http.rateLimitRpm > 0,
        requests_per_minute: this.config.http.rateLimitRpm,
      },
      // the job store is part of this process (the reference's proxy had one only with PROXMOX_MCP_CONFIG)
      jobs: { enabled: true },
      security_warnings: securityWarnings(this.config),
      freeze,
    };
  }

  @Get()
  @ApiExcludeEndpoint()
  index(): object {
    return {
      name: this.info.name,
      status: 'ok',
      mcp: '/mcp',
      docs: '/docs',
      openapi: '/openapi.json',
      livez: '/livez',
      readyz: '/readyz',
      health: '/health',
      ...(this.config.metrics?.enabled === false ? {} : { metrics: '/metrics' }),
      jobs: '/jobs',
    };
  }
}
