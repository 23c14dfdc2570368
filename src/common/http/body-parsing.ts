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
    if (!error?.type || res.headersSent) return next(error);
    const tooLarge = error.type === 'entity.too.large';
    const status = tooLarge ? 413 : error.status && error.status < 500 ? error.status : 400;
    const message = tooLarge
      ? 'Request body is larger than the server accepts (mcp.max_body_bytes)'
      : error.type === 'entity.parse.failed'
        ? 'Malformed JSON in request body'
        : 'Unreadable request body';
    if (req.path === '/mcp') {
      res.status(status).json(jsonRpcError(tooLarge ? -32600 : -32700, message));
      return;
    }
    res
      .status(status)
      .json({ statusCode: status, code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION', message });
  };
}
