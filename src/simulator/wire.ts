import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyMessage, reasonPhrase } from './pve-error.js';

/**
 * The HTTP details of pve-api-daemon: headers on every reply, the `{"data": …}` envelope, errors with the message
 * in the reason phrase and in `message`, and a closed connection after any error (proxmox-api.md §1, §3).
 */
export const JSON_TYPE = 'application/json;charset=UTF-8';
/** pve-http-server refuses larger request bodies. */
export const MAX_BODY_BYTES = 64 * 1024;

export function baseHeaders(contentType = JSON_TYPE): Record<string, string> {
  return {
    Server: 'pve-api-daemon/3.0',
    'Content-Type': contentType,
    'Cache-Control': 'max-age=0',
    Pragma: 'no-cache',
  };
}

export function sendData(res: ServerResponse, data: unknown, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ data: data === undefined ? null : data, ...extra });
  res.writeHead(200, 'OK', { ...baseHeaders(), 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A PVE error: reason phrase = first line; body `{"data":null,"message":"…\n","errors"?}` unless `emptyBody`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  options: { errors?: Record<string, string>; headers?: Record<string, string>; emptyBody?: boolean } = {},
): void {
  const body = options.emptyBody
    ? ''
    : JSON.stringify({
        data: null,
        message: bodyMessage(message),
        ...(options.errors ? { errors: options.errors } : {}),
      });
  res.writeHead(status, reasonPhrase(message), {
    ...baseHeaders(),
    ...options.headers,
    Connection: 'close',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export class BodyTooLargeError extends Error {}

/** Reads the whole request body (bounded). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('request too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export type ParamValue = string | string[];

/** x-www-form-urlencoded (and query strings): a repeated key becomes an array, as pve-http-server decodes it. */
export function decodeForm(text: string): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

export class MalformedBodyError extends Error {}

/** POST/PUT parameters: a JSON object for application/json, form decoding otherwise. */
export function decodeBody(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const text = body.toString('utf8');
  if (/^application\/json\b/i.test(contentType ?? '')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new MalformedBodyError(`malformed JSON string: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new MalformedBodyError('malformed JSON string: the body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  }
  return decodeForm(text);
}
