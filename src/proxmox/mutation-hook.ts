/** One POST/PUT/DELETE the client is about to send (after its approval checkpoint). */
export interface PveMutation {
  target: string;
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The body (POST/PUT) or query (DELETE) parameters, as the caller passed them. */
  params: Readonly<Record<string, unknown>> | undefined;
  /** A GET on the same target (the change journal reads an object before and after the change). */
  read: (path: string) => Promise<unknown>;
}

/**
 * Wraps every mutation a client sends: `send()` performs it and resolves to PVE's `data`. Handed down by a higher
 * layer (the change journal, src/audit/changes) through ProxmoxGateway.setMutationHook; the client knows no feature.
 */
export type MutationHook = (mutation: PveMutation, send: () => Promise<unknown>) => Promise<unknown>;
