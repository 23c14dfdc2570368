import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import type { Readable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { isTaskListen, type ListenWire } from './listen-wire.js';
import type { McpToolHandlers } from './mcp-server.js';

/**
 * The stdio transport with task listens served in front of the SDK's stdio entry. The entry has its own listen
 * router (the core change types of the pinned server) that drops `taskIds`; a subscriptions/listen naming task
 * ids is answered here instead, through the caller's `listenTasks` handler (task-listen.ts), and a
 * `notifications/cancelled` for it ends it. Everything else passes through untouched.
 */
export class TaskListenStdioTransport implements Transport {
  private readonly inner: StdioServerTransport;
  private readonly listens = new Map<string | number, AbortController>();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(
    private readonly handlers: McpToolHandlers,
    private readonly options: TaskListenStdioOptions = {},
  ) {
    this.inner = new StdioServerTransport(options.input ?? process.stdin, process.stdout);
  }

  async start(): Promise<void> {
    this.inner.onclose = () => {
      this.stopAll();
      this.onclose?.();
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message: JSONRPCMessage) => {
      if (isTaskListen(message)) return this.listen(message);
      const cancelled = cancelledListen(message);
      if (cancelled !== undefined && this.listens.has(cancelled)) {
        this.listens.get(cancelled)!.abort();
        return;
      }
      this.onmessage?.(message);
    };
    await this.inner.start();
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.alreadyAnswered(message)) return;
    await this.inner.send(message);
    this.options.afterSend?.(message);
  }

  /** The SDK's answer to a request the stdio opener replayed: the client has the opener's already. */
  private alreadyAnswered(message: JSONRPCMessage): boolean {
    const { answered } = this.options;
    const id = (message as { id?: unknown }).id;
    if (!answered?.size || 'method' in message || (typeof id !== 'string' && typeof id !== 'number'))
      return false;
    const written = answered.get(id);
    if (written === undefined) return false;
    answered.delete(id);
    if (JSON.stringify(message) !== written) {
      // a bug in the opener (or an SDK upgrade it does not know): said, since the client got the opener's answer
      this.options.warn?.(
        `the stdio opener answered request ${JSON.stringify(id)} unlike the SDK: ${written}`,
      );
    }
    if (answered.size === 0) this.options.afterReplay?.();
    return true;
  }

  async close(): Promise<void> {
    this.stopAll();
    await this.inner.close();
  }

  private listen(request: Parameters<McpToolHandlers['listenTasks']>[0]): void {
    const { id } = request;
    const stop = new AbortController();
    this.listens.get(id)?.abort();
    this.listens.set(id, stop);
    const send = (message: Record<string, unknown>) =>
      void this.inner
        .send(message as JSONRPCMessage)
        .catch((error: unknown) => this.onerror?.(error as Error));
    const done = () => {
      if (this.listens.get(id) === stop) this.listens.delete(id);
    };
    const wire: ListenWire = {
      refuse: (_status, response) => {
        send(response);
        done();
      },
      open: () => undefined,
      send,
      end: done,
    };
    this.handlers.listenTasks(request, wire, stop.signal).catch((error: unknown) => {
      done();
      send({ jsonrpc: '2.0', id, error: { code: -32603, message: (error as Error).message } });
    });
  }

  private stopAll(): void {
    for (const stop of this.listens.values()) stop.abort();
    this.listens.clear();
  }
}

export interface TaskListenStdioOptions {
  /** Runs once each message has been written (the fast start boots the application after its tools/list answer). */
  afterSend?: (message: JSONRPCMessage) => void;
  /** What to read instead of stdin (the stdio opener's hand-over stream). */
  input?: Readable;
  /** Requests the stdio opener answered and replays to the SDK, with the answer it wrote: not written twice. */
  answered?: Map<string | number, string>;
  /** Runs once the SDK has answered every replayed request (it is then where it would be without the opener). */
  afterReplay?: () => void;
  warn?: (message: string) => void;
}

function cancelledListen(message: JSONRPCMessage): string | number | undefined {
  const m = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown } };
  if (m.method !== 'notifications/cancelled' || m.id !== undefined) return undefined;
  const requestId = m.params?.requestId;
  return typeof requestId === 'string' || typeof requestId === 'number' ? requestId : undefined;
}
