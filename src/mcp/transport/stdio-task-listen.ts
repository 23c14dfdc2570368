import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
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
  private readonly inner = new StdioServerTransport();
  private readonly listens = new Map<string | number, AbortController>();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  /** `afterSend` runs once each message has been written (the fast start boots the application after its answer). */
  constructor(
    private readonly handlers: McpToolHandlers,
    private readonly afterSend?: () => void,
  ) {}

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
    await this.inner.send(message);
    this.afterSend?.();
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

function cancelledListen(message: JSONRPCMessage): string | number | undefined {
  const m = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown } };
  if (m.method !== 'notifications/cancelled' || m.id !== undefined) return undefined;
  const requestId = m.params?.requestId;
  return typeof requestId === 'string' || typeof requestId === 'number' ? requestId : undefined;
}
