import { PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';

/** The protocol revision whose subscriptions/listen carries task ids (the Tasks extension). */
export const MODERN = '2026-07-28';

type RequestId = string | number;

/** A subscriptions/listen request as isTaskListen() accepted it. */
export interface ListenRequest {
  id: RequestId;
  params: { notifications: Record<string, unknown>; _meta: Record<string, unknown> };
}

/** Where one listen's messages go: an HTTP response (SSE) or the stdio connection. */
export interface ListenWire {
  /** The JSON-RPC error instead of a stream (HTTP: with this status). Nothing else is sent after it. */
  refuse(httpStatus: number, response: Record<string, unknown>): void;
  /** The stream starts (HTTP: status and headers). */
  open(): void;
  send(message: Record<string, unknown>): void;
  /** The stream is over (after its `complete` result when the server ended it). */
  end(): void;
}

/** A single 2026-07-28 subscriptions/listen (`_meta` envelope) whose filter names `taskIds`. */
export function isTaskListen(body: unknown): body is ListenRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { method, params, id } = body as { method?: unknown; params?: unknown; id?: unknown };
  if (method !== 'subscriptions/listen' || (typeof id !== 'string' && typeof id !== 'number')) return false;
  const p = params as { notifications?: unknown; _meta?: Record<string, unknown> } | undefined;
  const notifications = p?.notifications as Record<string, unknown> | undefined;
  return (
    typeof notifications === 'object' &&
    notifications !== null &&
    'taskIds' in notifications &&
    p?._meta?.[PROTOCOL_VERSION_META_KEY] === MODERN
  );
}
