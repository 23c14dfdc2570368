import { AsyncLocalStorage } from 'node:async_hooks';
import type { PlanRecorder } from './plan-recorder.js';

/**
 * What the transport knows about the call in flight, for code deep in a service that needs it (a job wait that
 * streams progress, a cancelled request that should stop waiting). Set once per tool call or REST request by the
 * transport; services read it with currentCall() and never import the MCP SDK.
 */
export interface CallContext {
  /** The API key name (or stdio/no-auth user) making the call: jobs record who created them. */
  principal?: { name: string; scope: string };
  /** Aborted when the client goes away (MCP request cancelled, HTTP connection closed). */
  signal?: AbortSignal;
  /**
   * Present only when the MCP client asked for progress (a progressToken in the request's _meta): sends
   * notifications/progress on the request's own stream. `total` is 100 for percentages.
   */
  progress?: (update: { progress: number; total?: number; message?: string }) => void;
  /** Present only on MCP calls: a log line for the client (notifications/message). */
  log?: (level: 'info' | 'warning' | 'error', logger: string, data: unknown) => void;
  /**
   * Present only on calls the approval policy gates: settles the approval (consumes the presented token, or
   * creates a request and throws APPROVAL_REQUIRED). Set by the approval guard; reached through
   * approvalCheckpoint() right before the call's first change, so validation and every read-only precondition
   * check run before an operator is ever asked.
   */
  approval?: { settle(): Promise<void> };
  /** Present only on a dry run (`dry_run: true`): changes are recorded here instead of made (src/common/plan). */
  plan?: PlanRecorder;
}

const storage = new AsyncLocalStorage<CallContext>();

/** Runs `fn` with `context` visible to every await beneath it. */
export function runWithCallContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The call in flight, or an empty context (background work such as the job poller). */
export function currentCall(): CallContext {
  return storage.getStore() ?? {};
}

/**
 * Where a call commits to changing something (a job recorded and sent, a PVE POST/PUT/DELETE, an SSH command): a
 * gated call gets its approval here, once; later checkpoints of the same call pass at once (or throw the same
 * refusal). Calls that need no approval, and background work, pass at once.
 */
export async function approvalCheckpoint(): Promise<void> {
  await currentCall().approval?.settle();
  await firstChangeHook?.(); // after the approval: e.g. the safety snapshot (src/jobs/safety)
}

let firstChangeHook: (() => Promise<void>) | undefined;

/** What runs at every checkpoint once the approval is settled; it keeps its own per-call state. Set once at boot. */
export function setFirstChangeHook(hook: () => Promise<void>): void {
  firstChangeHook = hook;
}
