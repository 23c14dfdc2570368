import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { httpErrorBody } from './http-error.mapper.js';
import { normalizeError } from './error-normalizer.js';
import { redactValue } from '../redaction/redactor.js';

/**
 * REST errors: one JSON shape ({statusCode, code, message, detail, hint?, details?}), never a stack or HTML.
 * `detail` is what FastAPI-style clients of the reference read (see httpErrorBody).
 */
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
    const req = host.switchToHttp().getRequest<Request>();
    // the reference's POST /{tool_name} routes (mcpo) answered a failed tool as {detail: {message: "Error executing tool X: …"}}
    const tool =
      req.method === 'POST' && (req.route as { path?: string } | undefined)?.path === '/:tool'
        ? String(req.params.tool).slice(0, 64)
        : undefined;
    const body = httpErrorBody(error, tool);
    if (res.headersSent) return;
    if (body.statusCode === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="proxmox-mcp-plus"');
    // the standard header on every 429 (the throttler only sets Retry-After-<bucket>, and not at all for POST /{tool})
    if (body.statusCode === 429) res.setHeader('Retry-After', String(retryAfterSeconds(body.details)));
    // the one redactor: no token or password that slipped into a message leaves the server
    res.status(body.statusCode).json(redactValue(body));
  }
}

/** Seconds until a refused call may be retried: the limiter's own figure, else a full rate-limit window. */
function retryAfterSeconds(details: Record<string, unknown> | undefined): number {
  const seconds = details?.retry_after_seconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 60;
}
