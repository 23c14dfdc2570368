import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { httpErrorBody } from './http-error.mapper.js';
import { normalizeError } from './error-normalizer.js';
import { redactValue } from '../../security/redaction/redactor.js';

/** REST errors: one JSON shape ({statusCode, code, message, hint?, details?}), never a stack or HTML. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const error = normalizeError(exception, (ref, e) =>
      this.logger.error(
        `unexpected error (ref ${ref}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      ),
    );
    const body = httpErrorBody(error);
    if (res.headersSent) return;
    if (body.statusCode === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="proxmox-mcp-plus"');
    // the one redactor: no token or password that slipped into a message leaves the server
    res.status(body.statusCode).json(redactValue(body));
  }
}
