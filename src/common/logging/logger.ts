import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../../config/app-config.js';

/** Secrets that may hide inside free-text messages (pino's path redaction cannot see those). */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/PVEAPIToken[= ][^\s"';,]+/gi, 'PVEAPIToken=<redacted>'],
  [/(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 <redacted>'],
  [/((?:token_value|password|api_key|secret)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1<redacted>'],
];

export function scrubSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((t, [re, replacement]) => t.replace(re, replacement), text);
}

/**
 * JSON logs on stderr (stdout belongs to the MCP stdio transport), with secrets redacted by key at any depth
 * and by pattern inside messages.
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'proxmox-mcp-plus' },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          '*.*.authorization',
          'password',
          '*.password',
          '*.*.password',
          'tokenValue',
          '*.tokenValue',
          'secret',
          '*.secret',
        ],
        censor: '<redacted>',
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** Routes Nest's own log lines into the same JSON stream. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace: trace ? scrubSecrets(trace) : undefined }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
