import express, { type NextFunction, type Request, type Response } from 'express';
import { jsonRpcError } from './json-rpc-error.js';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/**
 * JSON bodies with a hard size limit, and JSON (never Express's HTML page with a stack) when a body is
 * malformed or too large. /mcp gets JSON-RPC shaped errors (-32700 parse error) so MCP clients can read them.
 */
export function jsonBodyParser(limitBytes: number) {
  return express.json({ limit: limitBytes, strict: true });
}

export function bodyErrorHandler() {
  return (error: BodyParserError, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    // (as the client sent it, shortened: it is echoed in the message)
    const encoding = String(req.headers['content-encoding'] ?? 'identity')
      .toLowerCase()
      .slice(0, 40);
    // body-parser hands zlib's own error on (no `type`) when a compressed body does not decompress
    const undecompressable = !error?.type && encoding !== 'identity' && isZlibError(error);
    if (!error?.type && !undecompressable) return next(error);
    const tooLarge = error.type === 'entity.too.large';
    const status = tooLarge ? 413 : error.status && error.status < 500 ? error.status : 400;
    const message = tooLarge
      ? 'Request body is larger than the server accepts (mcp.max_body_bytes)'
      : undecompressable
        ? `The request body could not be decompressed as Content-Encoding '${encoding}' (${error.message}); ` +
          'send valid compressed data, or an uncompressed body without Content-Encoding'
        : error.type === 'encoding.unsupported'
          ? `Unsupported Content-Encoding '${encoding}'; send gzip, deflate, br or an uncompressed body`
          : error.type === 'entity.parse.failed'
            ? 'Malformed JSON in request body'
            : 'Unreadable request body';
    if (req.path === '/mcp') {
      res.status(status).json(jsonRpcError(tooLarge ? -32600 : -32700, message));
      return;
    }
    res.status(status).json({
      statusCode: status,
      code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION',
      message,
      detail: message,
    });
  };
}

/** zlib's stream errors carry a Z_* code (gzip, deflate) or ERR_BROTLI/ERR_ZSTD_* (br, zstd) and an errno. */
function isZlibError(error: BodyParserError | undefined): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(Z_|ERR_(_|BROTLI|ZSTD|ZLIB))/.test(code);
}
