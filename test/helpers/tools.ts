import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { PveSimulator } from '../../src/simulator/index.js';
import type { RecordedRequest } from '../../src/simulator/request-log.js';
import type { Harness } from './test-app.js';

export type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: any;
};

export const resultText = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

/**
 * Tool calls through an MCP client, with the two assertions every tool suite makes: `ok` (a result, returned as
 * its structuredContent) and `fails` (an error result whose text starts with the error code). Give it a client
 * that has listed the tools, so the SDK checks every result against the tool's outputSchema.
 */
export function toolCalls(client: () => Client) {
  const call = (name: string, args: Record<string, unknown> = {}) =>
    client().callTool({ name, arguments: args }) as Promise<ToolResult>;
  const ok = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await call(name, args);
    assert.equal(r.isError, undefined, `${name}: ${resultText(r)}`);
    return r.structuredContent;
  };
  const fails = async (name: string, args: Record<string, unknown>, code: string, message?: RegExp) => {
    const r = await call(name, args);
    const shown = `${name} ${JSON.stringify(args)}`;
    assert.equal(r.isError, true, `${shown} should fail: ${JSON.stringify(r.structuredContent)}`);
    assert.match(resultText(r), new RegExp(`^${code}: `), `${shown}: ${resultText(r)}`);
    if (message) assert.match(resultText(r), message, shown);
    return resultText(r);
  };
  return { call, ok, fails };
}

/** What the server sent to the simulator: mark a point, then look at what came after it. */
export function simRequests(sim: () => PveSimulator) {
  const lastSeq = () => sim().requests.at(-1)?.seq ?? 0;
  const since = (seq: number): RecordedRequest[] => sim().requests.filter((r) => r.seq > seq);
  const mutations = (seq: number) => since(seq).filter((r) => r.method !== 'GET');
  /** The changes since `seq`, one line each: method, path and the form body (or query) as PVE received it. */
  const changes = (seq: number) =>
    mutations(seq).map((q) => `${q.method} ${q.path} ${JSON.stringify(q.body ?? q.query)}`);
  return { lastSeq, since, mutations, changes };
}

/** A seeded guest of the simulated cluster (fails the test when it does not exist). */
export function simGuest(sim: PveSimulator, vmid: number) {
  const guest = sim.cluster.guest(vmid);
  assert.ok(guest, `guest ${vmid} exists`);
  return guest;
}

/**
 * The set-up of a tool suite: start the harness, connect an MCP client that has listed the tools (so the SDK
 * checks every result against the tool's outputSchema), hand both to the suite; after it, every request the tools
 * sent must have passed the PVE schema, and everything is closed.
 */
export function harnessSuite(
  start: () => Promise<Harness>,
  ready: (harness: Harness, client: Client) => void | Promise<void>,
): void {
  let harness: Harness | undefined;
  before(async () => {
    harness = await start();
    const client = await harness.mcp();
    await client.listTools();
    await ready(harness, client);
  });
  after(async () => {
    if (!harness) return;
    try {
      assert.deepEqual(
        harness.sim.schemaViolations(),
        [],
        'every request the tools sent must pass the PVE schema',
      );
    } finally {
      await harness.close();
    }
  });
}
