import type { NextFunction, Request, Response } from 'express';
import { jsonRpcError } from '../common/http/json-rpc-error.js';

/**
 * Refuses a request whose Content-Length already exceeds the body limit, at once. The body parser would first
 * read (and discard) the whole declared body before answering 413, so a client announcing gigabytes could hold
 * the connection until request_timeout. The connection is closed after the answer, dropping the rest.
 */
export function declaredBodyLimit(maxBytes: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length']);
    if (!Number.isFinite(declared) || declared <= maxBytes) return next();
    const message = `Request body of ${declared} bytes is larger than the server accepts (mcp.max_body_bytes = ${maxBytes})`;
    res.setHeader('Connection', 'close');
    if (req.path === '/mcp') {
      res.status(413).json(jsonRpcError(-32600, message));
      return;
    }
    res.status(413).json({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message, detail: message });
  };
}

/** Deeper than any tool's arguments can be (the JSON-RPC envelope adds three levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses parsed JSON bodies nested deeper than MAX_JSON_DEPTH with a 400 naming the limit. Validation walks
 * arguments recursively, so a body of 40 000 nested arrays (80 kB) would otherwise end in a stack overflow and
 * an INTERNAL error. Measured without recursion, so the check cannot overflow itself.
 */
export function maxJsonDepth(limit = MAX_JSON_DEPTH) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (depthExceeds(req.body, limit)) {
      const message = `Request body is nested deeper than ${limit} levels; tool arguments are flat objects`;
      if (req.path === '/mcp') {
        res.status(400).json(jsonRpcError(-32600, `Invalid Request: ${message}`));
        return;
      }
      res.status(400).json({ statusCode: 400, code: 'VALIDATION', message, detail: message });
      return;
    }
    next();
  };
}

function depthExceeds(root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(value))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
