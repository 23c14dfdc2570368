import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { vmIn } from '../helpers/jobs.js';
import { directToolCall } from '../../src/mcp/transport/direct-tool-call.js';

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};
const body = (params: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params });

// The direct path of POST /mcp (src/mcp/transport/direct-tool-call.ts): a plain 2025-era tools/call is answered
// without the SDK's per-request server and SSE stream. These tests hold it to the SDK path's answers: the same
// result for the same call, notifications still streamed, and everything unusual still answered by the SDK.

interface Answer {
  status: number;
  contentType: string;
  messages: Array<{ id?: unknown; method?: string; params?: any; result?: any; error?: any }>;
}

describe('MCP direct tools/call path (2025-era, stateless)', () => {
  let h: Harness;
  let nextId = 1;

  before(async () => {
    h = await startHarness({ taskSeconds: 3 });
  });
  after(async () => {
    try {
      assert.deepEqual(h.sim.schemaViolations(), [], 'every request the tools sent must pass the PVE schema');
    } finally {
      await h.close();
    }
  });

  async function post(
    params: Record<string, unknown>,
    headers: Record<string, string> = {},
    method = 'tools/call',
  ): Promise<Answer> {
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: {
        ...h.auth,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    const messages = contentType.includes('text/event-stream')
      ? text
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => JSON.parse(line.slice(5)))
      : [JSON.parse(text)];
    return { status: res.status, contentType, messages };
  }

  test('a plain call is answered exactly as the SDK path answers it: same framing, same result', async () => {
    const call = { name: 'get_vms', arguments: { node: 'pve1' } };
    assert.ok(
      directToolCall(body(call), HEADERS, () => true),
      'this call takes the direct path',
    );
    const direct = await post(call);
    assert.equal(direct.status, 200);
    assert.match(direct.contentType, /^text\/event-stream/);
    // an extra _meta key is not plain: the SDK's own legacy path answers the same call
    const traced = { ...call, _meta: { 'example.com/trace': 'x' } };
    assert.equal(
      directToolCall(body(traced), HEADERS, () => true),
      undefined,
      'this one goes to the SDK',
    );
    const viaSdk = await post(traced);
    assert.equal(viaSdk.status, 200);
    assert.equal(viaSdk.contentType, direct.contentType);
    const [a] = direct.messages;
    const b = viaSdk.messages.find((m) => m.id !== undefined);
    assert.ok(a.result.structuredContent.vms.length > 0);
    assert.deepEqual(a.result, b?.result);

    // a refused call (a tool error) is the same result on both paths too
    const bad = { name: 'get_vm_config', arguments: { node: 'pve1', vmid: 99999 } };
    const badDirect = (await post(bad)).messages[0];
    const badSdk = (await post({ ...bad, _meta: { 'example.com/trace': 'x' } })).messages.find(
      (m) => m.id !== undefined,
    );
    assert.equal(badDirect.result.isError, true);
    assert.deepEqual(badDirect.result, badSdk?.result);
  });

  test('progress notifications stream before the result, as on the SDK path', async () => {
    const vm = vmIn(h.sim, 'stopped');
    const started = (await post({ name: 'start_vm', arguments: { node: vm.node, vmid: vm.vmid } }))
      .messages[0];
    const jobId = started.result.structuredContent.job_id as string;
    const waited = await post({
      name: 'wait_job',
      arguments: { job_id: jobId, timeout_seconds: 30 },
      _meta: { progressToken: 'p-1' },
    });
    const progress = waited.messages.filter((m) => m.method === 'notifications/progress');
    assert.ok(progress.length >= 1, 'at least one progress notification before the result');
    assert.ok(progress.every((m) => m.params.progressToken === 'p-1'));
    const last = waited.messages.at(-1);
    assert.equal(last?.result?.structuredContent.status, 'completed');
  });

  test('which requests take the direct path: only plain 2025-era tools/call of a tool we serve', () => {
    const serves = (name: string) => name === 'get_vms';
    const plain = { name: 'get_vms', arguments: {} };
    assert.ok(directToolCall(body(plain), HEADERS, serves));
    assert.ok(directToolCall(body({ ...plain, _meta: { progressToken: 7 } }), HEADERS, serves));
    const { 'mcp-protocol-version': _v, ...noVersion } = HEADERS;
    assert.ok(
      directToolCall(body(plain), noVersion, serves),
      'no version header: 2025-03-26, as the SDK assumes',
    );
    const sdk: Array<[string, unknown, Record<string, string>]> = [
      ['an unknown tool', body({ name: 'nope' }), HEADERS],
      ['another method', { ...body(plain), method: 'tools/list' }, HEADERS],
      ['a notification', { jsonrpc: '2.0', method: 'tools/call', params: plain }, HEADERS],
      ['a batch', [body(plain)], HEADERS],
      ['a 2026-07-28 header', body(plain), { ...HEADERS, 'mcp-protocol-version': '2026-07-28' }],
      ['an unknown version', body(plain), { ...HEADERS, 'mcp-protocol-version': '1999-01-01' }],
      ['a session id', body(plain), { ...HEADERS, 'mcp-session-id': 'abc' }],
      ['JSON only accepted', body(plain), { ...HEADERS, accept: 'application/json' }],
      ['a form body', body(plain), { ...HEADERS, 'content-type': 'text/plain' }],
      [
        'a modern envelope',
        body({ ...plain, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }),
        HEADERS,
      ],
      ['a task request', body({ ...plain, task: { ttl: 1000 } }), HEADERS],
      ['arguments not an object', body({ name: 'get_vms', arguments: [1] }), HEADERS],
      ['a null id', { ...body(plain), id: null }, HEADERS],
    ];
    for (const [what, message, headers] of sdk) {
      assert.equal(directToolCall(message, headers, serves), undefined, what);
    }
  });

  test('what is not a plain call is still answered by the SDK, errors included', async () => {
    const unknown = await post({ name: 'no_such_tool', arguments: {} });
    const unknownError = unknown.messages.find((m) => m.error)?.error;
    assert.equal(unknownError?.code, -32602);
    assert.match(unknownError?.message ?? '', /no_such_tool/);

    const badVersion = await post(
      { name: 'get_vms', arguments: {} },
      { 'mcp-protocol-version': '1999-01-01' },
    );
    assert.equal(badVersion.status, 400);

    const noSse = await post({ name: 'get_vms', arguments: {} }, { accept: 'application/json' });
    assert.equal(noSse.status, 406);

    const malformed = await post({ name: 'get_vms', arguments: ['x'] });
    assert.match(
      malformed.messages.find((m) => m.error)?.error.message ?? '',
      /params\.arguments must be an object/,
    );

    // without a key nothing is answered at all, on either path
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_vms' } }),
    });
    assert.equal(res.status, 401);
  });
});
