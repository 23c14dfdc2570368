import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';
import { MCP_HEADERS, bearer, rawRequest } from './helpers.js';

type RpcAnswer = {
  id?: unknown;
  error?: { code: number; message: string };
  result?: { isError?: boolean; content: Array<{ text?: string }> };
};

/** The JSON-RPC answer in a /mcp response body: plain JSON, or the data line of an SSE message. */
function rpc(body: string): RpcAnswer {
  const text = body.trimStart().startsWith('{')
    ? body
    : (body
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6) ?? '');
  return JSON.parse(text) as RpcAnswer;
}

/** The edges of POST /mcp and of the HTTP layer below it that a careless or hostile client reaches first. */
describe('JSON-RPC and HTTP edges on /mcp', () => {
  let h: Harness;
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(API_KEY), ...headers },
      body,
    });
  const call = async (params: unknown) => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params }));
    return { status: r.status, answer: rpc(await r.text()) };
  };

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('an empty batch [] is an invalid request (-32600, 400), not an empty 202', async () => {
    const r = await post('[]');
    assert.equal(r.status, 400);
    const answer = rpc(await r.text());
    assert.equal(answer.error?.code, -32600);
    assert.match(answer.error?.message ?? '', /empty batch/);
    assert.equal(answer.id, null);
  });

  test('a malformed tools/call gets -32602 naming the field, never -32603 with a raw dump', async () => {
    const before = h.sim.totalRequests;
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /params is missing; tools\/call takes params \{"name": "<tool name>", "arguments"/],
      [{ arguments: {} }, /params\.name must be the tool name as a string, got nothing/],
      [{ name: 5 }, /params\.name must be the tool name as a string, got number 5/],
      [{ name: 'get_vms', arguments: [] }, /params\.arguments must be an object .*, got an array/],
      [
        { name: 'get_vms', arguments: 'node=pve1' },
        /params\.arguments must be an object .*, got string "node=pve1"/,
      ],
      [{ name: 'get_vms', arguments: null }, /params\.arguments must be an object .*, got null/],
      [{ name: 'get_vms', task: 5 }, /^Invalid tools\/call: params\.task: .*expected object/],
    ];
    for (const [params, expected] of cases) {
      const { status, answer } = await call(params);
      assert.equal(status, 200, JSON.stringify(params));
      assert.equal(answer.id, 9);
      assert.equal(answer.error?.code, -32602, `${JSON.stringify(params)}: ${JSON.stringify(answer)}`);
      assert.match(answer.error?.message ?? '', expected);
      assert.doesNotMatch(answer.error?.message ?? '', /invalid_type|"expected"|\n/, 'no zod dump');
    }
    // params that are not an object at all: the SDK called that a parse error (-32700); it is invalid params
    for (const [params, got] of [
      [[], 'an array'],
      ['x', 'string'],
      [null, 'null'],
    ] as const) {
      const { status, answer } = await call(params);
      assert.equal(status, 400);
      assert.equal(answer.id, 9);
      assert.equal(answer.error?.code, -32602);
      assert.equal(
        answer.error?.message,
        `Invalid params: params of tools/call must be an object of named parameters, got ${got}`,
      );
    }
    // well-formed calls still work, with and without arguments
    for (const params of [{ name: 'get_nodes' }, { name: 'get_nodes', arguments: {} }]) {
      const { answer } = await call(params);
      assert.equal(answer.result?.isError, undefined, JSON.stringify(answer));
    }
    assert.ok(h.sim.totalRequests > before);
  });

  test('__proto__ or constructor in arguments is refused like any unknown argument, naming it and the accepted ones', async () => {
    const before = h.sim.totalRequests;
    for (const key of ['__proto__', 'constructor']) {
      const body = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_vms","arguments":{"${key}":{"polluted":1}}}}`;
      const answer = rpc(await (await post(body)).text());
      assert.equal(answer.result?.isError, true, `${key}: ${JSON.stringify(answer)}`);
      assert.equal(
        answer.result?.content[0].text?.split('\n')[0],
        `VALIDATION: Invalid arguments: unknown argument '${key}'; get_vms accepts: limit, node, offset, status, target`,
      );
      const rest = await rawRequest(`${h.url}/get_vms`, {
        method: 'POST',
        headers: { ...bearer(API_KEY), 'content-type': 'application/json' },
        body: `{"${key}":{"polluted":1}}`,
      });
      assert.equal(rest.status, 400);
      assert.match(JSON.parse(rest.body).message, new RegExp(`unknown argument '${key}'`));
    }
    assert.equal(h.sim.totalRequests, before, 'nothing reached PVE');
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });

  test('more than 100 header lines → 431 with a JSON body, on /mcp and REST; a garbled request → 400 JSON', async () => {
    for (const path of ['/mcp', '/vms']) {
      const headers: Record<string, string> = { ...MCP_HEADERS, ...bearer(API_KEY) };
      for (let i = 0; i < 120; i++) headers[`x-h${i}`] = 'v';
      const r = await rawRequest(`${h.url}${path}`, {
        method: path === '/mcp' ? 'POST' : 'GET',
        headers,
        body: path === '/mcp' ? '{}' : undefined,
      });
      assert.equal(r.status, 431, path);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(r.body), {
        statusCode: 431,
        code: 'PAYLOAD_TOO_LARGE',
        message: 'Request headers too large: at most 100 header lines and 16 KiB of headers',
      });
    }
    // whatever else Node's parser refuses gets a JSON body too, naming the parser's reason
    const garbled = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(h.url).port), '127.0.0.1');
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write('NOT A REQUEST\r\n\r\n');
    });
    assert.match(garbled, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.deepEqual(JSON.parse(garbled.slice(garbled.indexOf('\r\n\r\n') + 4)), {
      statusCode: 400,
      code: 'VALIDATION',
      message: 'Malformed HTTP request (HPE_INVALID_METHOD)',
    });
    const fine = await rawRequest(`${h.url}/vms`, { headers: bearer(API_KEY) });
    assert.equal(fine.status, 200);
  });

  test('a body that does not decompress gets a clear 400 (-32700 on /mcp), not "Invalid arguments"', async () => {
    const garbage = Buffer.from('this is not gzip at all');
    const onMcp = await post(garbage, { 'content-encoding': 'gzip' });
    assert.equal(onMcp.status, 400);
    const answer = rpc(await onMcp.text());
    assert.equal(answer.error?.code, -32700);
    assert.match(
      answer.error?.message ?? '',
      /^The request body could not be decompressed as Content-Encoding 'gzip'/,
    );

    const rest = await fetch(`${h.url}/get_vms`, {
      method: 'POST',
      headers: { ...bearer(API_KEY), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: garbage,
    });
    assert.equal(rest.status, 400);
    const body = (await rest.json()) as { code: string; message: string };
    assert.equal(body.code, 'VALIDATION');
    assert.match(body.message, /could not be decompressed/);
    assert.doesNotMatch(body.message, /Invalid arguments/);

    // a real gzip body is read as usual
    const gzipped = await fetch(`${h.url}/get_nodes`, {
      method: 'POST',
      headers: { ...bearer(API_KEY), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{}'),
    });
    assert.equal(gzipped.status, 200);
  });
});
