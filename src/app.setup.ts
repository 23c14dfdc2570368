import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { bodyErrorHandler, jsonBodyParser } from './common/http/body-parsing.js';
import { createLogger, NestPinoLogger } from './common/logging/logger.js';
import { ToolRegistry } from './mcp/registry/tool-registry.js';
import { patchOpenApi } from './mcp/schema/openapi.patcher.js';
import { SERVER_INFO, type ServerInfo } from './mcp/server-info.js';
import { hostOriginMiddleware } from './mcp/transport/host-origin.middleware.js';
import { AuditService } from './audit/audit.service.js';
import { LIST_HEADERS } from './common/http/rest-list.interceptor.js';
import { apiKeyMiddleware, type AuthDenial } from './security/api-key.middleware.js';
import { declaredBodyLimit, maxJsonDepth } from './security/request-limits.middleware.js';
import { configSecrets } from './config/config-secrets.js';
import { authorizeFromDocsSession, docsSessionHandler, DOCS_SESSION_PATH } from './security/docs-session.js';
import { rememberSecrets } from './common/redaction/redactor.js';
import { ToolAccessService } from './security/tool-access.service.js';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware.js';
import { MetricsService } from './metrics/metrics.service.js';
import type { Principal } from './common/tools/tool-definition.js';
import { approvalsPage } from './app.approvals-page.js';
import { OAuthService } from './security/oauth/oauth.service.js';
import { swaggerOAuth } from './security/oauth/swagger-oauth.js';

export interface CreatedApp {
  app: NestExpressApplication;
  logger: Logger;
}

/** Builds and initialises the application; main, the CLI and the tests all go through here. */
export async function createApp(config: AppConfig, options: { logger?: Logger } = {}): Promise<CreatedApp> {
  // before anything can log: the configuration's secrets are scrubbed wherever they appear
  rememberSecrets(configSecrets(config));
  const logger =
    options.logger ??
    createLogger(config.logging.level, {
      file: config.logging.file,
      logCommands: config.logging.logCommands,
    });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  configureApp(app, config);
  try {
    await app.init();
  } catch (error) {
    // e.g. a boot check refused the configuration: release the database and timers before reporting it
    await app.close().catch(() => undefined);
    throw error;
  }
  return { app, logger };
}

/**
 * HTTP concerns in a fixed order: metrics → CORS → Host/Origin → security headers → API key → body parsing →
 * routes.
 * CORS comes before every refusal (metrics only observe), so that refusals (403, 401, 429) to an allowed browser
 * origin carry its CORS headers and the page can read them.
 */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  // outermost, as in the reference: requests refused by the middlewares below are counted too
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  if (config.http.corsOrigins.length) {
    app.enableCors({
      origin: config.http.corsOrigins,
      credentials: false,
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Session-Id', 'Mcp-Protocol-Version'],
      exposedHeaders: ['Mcp-Session-Id', 'WWW-Authenticate', 'Retry-After', ...LIST_HEADERS],
    });
  }
  if (config.mcp.dnsRebindingProtection) {
    app.use(
      '/mcp',
      hostOriginMiddleware({
        bindHost: config.mcp.host,
        allowedHosts: config.mcp.allowedHosts,
        // an origin trusted for CORS must also pass the Origin check, or CORS on /mcp would be pointless
        allowedOrigins: [...config.mcp.allowedOrigins, ...config.http.corsOrigins],
      }),
    );
  }
  app.use(
    helmet({
      crossOriginEmbedderPolicy: false,
      // helmet's default CSP carries upgrade-insecure-requests: a browser then fetches the Swagger UI's own
      // assets over https and, served over plain http under any non-loopback name (a LAN address, a Docker host
      // name), renders a blank page. Whoever terminates TLS in front of the server can add it back.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  const audit = app.get(AuditService);
  // before the API key: the page signs operators in with its own session cookie (app.approvals-page.ts)
  app.use(approvalsPage(app, config, (denial) => void audit.record(authAuditEvent(denial))));
  const oauth = app.get(OAuthService);
  // RFC 9728 metadata, public; with auth.oauth off it passes everything on
  app.use(oauth.metadataMiddleware());
  app.use(
    apiKeyMiddleware({
      // auth.oauth.api_keys: false leaves OAuth tokens as the only credential
      keys: config.oauth?.apiKeys === false ? [] : config.http.apiKeys,
      allowNoAuth: config.http.allowNoAuth && !config.oauth,
      oauth: oauth.bearerHook(),
      // with http.rate_limit_rpm set, refused requests count against it too, as in the reference (rpm=1: 401, then 429)
      failureLimit: config.http.rateLimitRpm
        ? Math.min(config.http.authFailureLimit, config.http.rateLimitRpm)
        : config.http.authFailureLimit,
      failureWindowMs: config.http.authFailureWindowMs,
      onDenied: (denial) => void audit.record(authAuditEvent(denial)),
    }),
  );
  app.use(declaredBodyLimit(config.mcp.maxBodyBytes));
  app.use(jsonBodyParser(config.mcp.maxBodyBytes));
  app.use(bodyErrorHandler());
  app.use(maxJsonDepth());
  setupSwagger(app, oauth);
}

function setupSwagger(app: INestApplication, oauth: OAuthService): void {
  let document: OpenAPIObject | undefined;
  // Built on first request: the tool registry is complete only after app.init().
  const build = (): OpenAPIObject => {
    if (document) return document;
    const info = app.get<ServerInfo>(SERVER_INFO);
    const options = new DocumentBuilder()
      .setTitle('Proxmox MCP Plus')
      .setDescription(
        'Every operation here is also an MCP tool at /mcp (operationId = tool name). Authenticate with ' +
          '`Authorization: Bearer <API key>`.',
      )
      .setVersion(info.version)
      .setOpenAPIVersion('3.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' }, 'bearer');
    swaggerOAuth(options, oauth.config);
    const built = options.build();
    document = swaggerOAuth.document(
      patchOpenApi(SwaggerModule.createDocument(app, built), app.get(ToolRegistry).all()),
      oauth.config,
    );
    return document;
  };
  const access = app.get(ToolAccessService);
  // the page authorizes itself with the key it was opened with (the Basic login), see docs-session.ts
  app.getHttpAdapter().get(DOCS_SESSION_PATH, docsSessionHandler());
  SwaggerModule.setup('docs', app, build, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Proxmox MCP Plus API',
    swaggerOptions: {
      persistAuthorization: false,
      onComplete: authorizeFromDocsSession,
      ...swaggerOAuth.uiOptions(oauth.config),
    },
    // each caller sees only the operations it may call (exposure lists, scope, key limits)
    patchDocumentOnRequest: (req, _res, document) =>
      access.documentFor((req as { principal?: Principal }).principal, document),
  });
}

function authAuditEvent(denial: AuthDenial) {
  return {
    action: denial.reason === 'throttled' ? 'auth.throttled' : 'auth.failed',
    outcome: 'denied' as const,
    reason:
      denial.reason === 'throttled'
        ? `too many failed attempts (${denial.failures}) from this address; further failures get 429 and are not audited until the window ends`
        : denial.reason === 'missing'
          ? 'missing API key'
          : denial.reason === 'oauth-invalid'
            ? 'invalid OAuth access token'
            : denial.reason === 'oauth-forbidden'
              ? 'OAuth access token without a required scope or role'
              : denial.reason === 'basic-scheme'
                ? 'valid API key sent with Basic auth to an API route (only Bearer is accepted there)'
                : 'invalid API key',
    details: { address: denial.address, method: denial.method, path: denial.path },
  };
}
