import type { LoggerService } from '@nestjs/common';
import pino, { type LevelWithSilent, type Logger } from 'pino';
import { redactText, redactValue } from '../redaction/redactor.js';

/** Kept for existing callers: the one redactor lives in src/common/redaction. */
export function scrubSecrets(text: string): string {
  return redactText(text);
}

export interface LoggerOptions {
  /** logging.file: append JSON lines to this file instead of stderr. */
  file?: string;
  /** logging.log_commands: keep `command` values in log objects. */
  logCommands?: boolean;
}

/**
 * JSON logs on stderr (stdout belongs to the MCP stdio transport) or in logging.file. Every object is redacted
 * at any depth and every message string scrubbed by the one redactor (src/common/redaction), so pino's
 * fixed-depth path redaction is not relied on.
 */
export function createLogger(level: LevelWithSilent = 'info', options: LoggerOptions = {}): Logger {
  const redact = { keepCommands: options.logCommands ?? false };
  return pino(
    {
      level,
      base: { service: 'proxmox-mcp-plus' },
      formatters: {
        log: (object) => redactValue(object, redact),
        bindings: (bindings) => redactValue(bindings, redact),
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed: unknown[] = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          // logger.error(err) would print err.message as msg before any formatter sees it
          if (scrubbed[0] instanceof Error) {
            const err = scrubbed[0];
            scrubbed.splice(
              0,
              1,
              { err },
              ...(typeof scrubbed[1] === 'string' ? [] : [redactText(err.message)]),
            );
          }
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.file
      ? pino.destination({ dest: options.file, mkdir: true, sync: false })
      : pino.destination({ fd: 2, sync: false }),
  );
}

/** Routes Nest's own log lines into the same JSON stream. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
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
