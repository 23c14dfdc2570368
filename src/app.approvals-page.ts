import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from './config/app-config.js';
import { ToolRegistry } from './mcp/registry/tool-registry.js';
import { hostOriginMiddleware } from './mcp/transport/host-origin.middleware.js';
import { MetricsService } from './metrics/metrics.service.js';
import type { AuthDenial } from './security/api-key.middleware.js';
import { ApprovalDecisions } from './security/approvals-page/approval-decisions.js';
import { approvalsPageMiddleware } from './security/approvals-page/approvals-page.js';
import { ApprovalsService } from './security/approvals/approvals.service.js';
import { PolicyAudit } from './security/approvals/policy-audit.js';

/**
 * The /approvals page (src/security/approvals-page), given what lives above the security layer: the tool
 * registry (each request's risk) and the Host/Origin rules of /mcp, which the page's own requests follow too.
 */
export function approvalsPage(
  app: INestApplication,
  config: AppConfig,
  onDenied: (denial: AuthDenial) => void,
) {
  const registry = app.get(ToolRegistry);
  return approvalsPageMiddleware({
    apiKeys: config.http.apiKeys,
    decisions: new ApprovalDecisions(
      app.get<DataSource>(getDataSourceToken()),
      app.get(ApprovalsService),
      app.get(PolicyAudit),
      app.get(MetricsService),
    ),
    audit: app.get(PolicyAudit),
    riskOf: (tool) => registry.get(tool)?.risk,
    failureLimit: config.http.rateLimitRpm
      ? Math.min(config.http.authFailureLimit, config.http.rateLimitRpm)
      : config.http.authFailureLimit,
    failureWindowMs: config.http.authFailureWindowMs,
    onDenied,
    ...(config.mcp.dnsRebindingProtection
      ? {
          hostCheck: hostOriginMiddleware({
            bindHost: config.mcp.host,
            allowedHosts: config.mcp.allowedHosts,
            allowedOrigins: [...config.mcp.allowedOrigins, ...config.http.corsOrigins],
          }),
        }
      : {}),
  });
}
