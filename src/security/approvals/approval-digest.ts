import { createHash } from 'node:crypto';

/** The argument that carries an approval; never part of what is approved. */
export const APPROVAL_TOKEN_ARG = 'approval_token';
/** The same token in a header, for REST routes without a JSON body (e.g. DELETE). */
export const APPROVAL_TOKEN_HEADER = 'x-approval-token';

/**
 * The arguments of a call in one canonical form, so the same call has the same digest over MCP (typed JSON), the
 * POST /{tool} route and the resource routes (path and query values are strings): keys sorted, null/undefined
 * dropped, numbers and booleans written as strings. `target` and the approval token are left out (the target is
 * bound separately, after resolving the default).
 */
export function canonicalArguments(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(args).sort()) {
    if (key === APPROVAL_TOKEN_ARG || key === 'target') continue;
    const value = canonicalValue(args[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => canonicalValue(v) ?? null);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = canonicalValue((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  return undefined; // functions and symbols cannot come from JSON or a URL
}

/** SHA-256 (hex) binding one exact call: tool name, canonical arguments and the resolved target. */
export function approvalDigest(call: {
  tool: string;
  target: string;
  args: Record<string, unknown>;
}): string {
  const material = JSON.stringify([
    'proxmox-mcp-plus/approval/v1',
    call.tool,
    call.target,
    canonicalArguments(call.args),
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** Tokens are stored as this hash only. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** The target a call runs against: the explicit one, or the only configured target (the gateway's rule). */
export function callTarget(targets: ReadonlyArray<{ name: string }>, explicit: unknown): string {
  if (typeof explicit === 'string' && explicit) return explicit;
  return targets.length === 1 ? targets[0].name : '';
}
