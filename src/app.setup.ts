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
import { apiKeyMiddleware } from './security/api-key.middleware.js';

export interface CreatedApp {
  app: NestExpressApplication;
  logger: Logger;
}

/** Builds and initialises the application; main, the CLI and the tests all go through here. */
export async function createApp(config: AppConfig, options: { logger?: Logger } = {}): Promise<CreatedApp> {
  const logger = options.logger ?? createLogger(config.logging.level);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  configureApp(app, config);
  await app.init();
  return { app, logger };
}

/** HTTP concerns in a fixed order: Host/Origin → security headers → API key → body parsing → routes. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  app.use(
    '/mcp',
    hostOriginMiddleware({
      bindHost: config.mcp.host,
      allowedHosts: config.mcp.allowedHosts,
      allowedOrigins: config.mcp.allowedOrigins,
    }),
  );
  app.use(helmet({ crossOriginEmbedderPolicy: false }));
  if (config.http.corsOrigins.length) {
    app.enableCors({
      origin: config.http.corsOrigins,
      credentials: false,
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Session-Id', 'Mcp-Protocol-Version'],
      exposedHeaders: ['Mcp-Session-Id', 'WWW-Authenticate'],
    });
  }
  app.use(apiKeyMiddleware({ keys: config.http.apiKeys, allowNoAuth: config.http.allowNoAuth }));
  app.use(jsonBodyParser(config.mcp.maxBodyBytes));
  app.use(bodyErrorHandler());
  setupSwagger(app);
}

function setupSwagger(app: INestApplication): void {
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
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' }, 'bearer')
      .build();
    document = patchOpenApi(SwaggerModule.createDocument(app, options), app.get(ToolRegistry).all());
    return document;
  };
  SwaggerModule.setup('docs', app, build, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Proxmox MCP Plus API',
    swaggerOptions: { persistAuthorization: false },
  });
}
