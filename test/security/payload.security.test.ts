import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';
import { MCP_HEADERS, bearer, callTool, rawRequest, textOf } from './helpers.js';

const LIMIT = 1024 * 1024; // testConfig's mcp.max_body_bytes
const json = { ...bearer(API_KEY), 'content-type': 'application/json' };

/** Table C of security-and-faults.md: payload size and shape. */
describe('payload size and shape (table C)', () => {
  let h: Harness;
  let mcp: Client;
  let port: number;

  const rawMcp = (body: string) =>
    rawRequest(`${h.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(API_KEY) }, body });
  const toolCall = (name: string, argsJson: string) =>
    `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"${name}","arguments":${argsJson}}}`;

  before(async () => {
    h = await startHarness();
    mcp = await h.mcp();
    port = Number(new URL(h.url).port);
  });
  after(() => h.close());

  test('C1: a body one byte over the limit → 413 JSON (REST and JSON-RPC shaped on /mcp), no HTML', async () => {
    const prefix = '{"target":"';
    const body = `${prefix}${'x'.repeat(LIMIT + 1 - prefix.length - 2)}"}`;
    assert.equal(Buffer.byteLength(body), LIMIT + 1);
    const rest = await rawRequest(`${h.url}/get_vms`, { method: 'POST', headers: json, body });
    assert.equal(rest.status, 413);
    assert.equal(JSON.parse(rest.body).code, 'PAYLOAD_TOO_LARGE');
    const viaMcp = await rawMcp(body);
    assert.equal(viaMcp.status, 413);
    assert.equal(JSON.parse(viaMcp.body).error.code, -32600);
    for (const r of [rest, viaMcp]) assert.doesNotMatch(r.body, /<html|at .*\.js:\d+/i);
  });

  test('C2: a huge declared Content-Length is refused at once, without waiting for the body', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          `POST /get_vms HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"tar',
        ),
      );
      let data = '';
      socket.on('data', (c) => {
        data += c.toString();
        if (data.includes('\r\n\r\n')) resolve(data); // answered while the body is still "coming"
      });
      socket.on('error', reject);
      setTimeout(() => reject(new Error('no answer while the body was still pending')), 5000).unref();
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /Connection: close/i);
  });

  test('C2: a Content-Length smaller than what is sent: the excess is not taken as part of the body', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          `POST /get_vms HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}{"target":"smuggled"}',
        ),
      );
      let data = '';
      socket.on('data', (c) => (data += c.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(data));
      setTimeout(() => socket.destroy(), 3000).unref();
    });
    // the declared 2 bytes are the request; the rest is read as a next request, which is not HTTP: 400, closed
    assert.match(answer, /^HTTP\/1\.1 (200|400) /);
    assert.doesNotMatch(answer, /smuggled/);
    assert.equal((await callTool(mcp, 'get_nodes')).isError, undefined, 'still serving');
  });

  test('C3: 40 000-deep nested arrays in tool arguments → 400 naming the depth limit; the server stays up', async () => {
    const deep = `${'['.repeat(40_000)}${']'.repeat(40_000)}`;
    const r = await rawMcp(toolCall('get_vms', `{"node":${deep}}`));
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error.message, /nested deeper than 32 levels/);
    const rest = await rawRequest(`${h.url}/get_vms`, {
      method: 'POST',
      headers: json,
      body: `{"node":${deep}}`,
    });
    assert.equal(rest.status, 400);
    assert.equal(JSON.parse(rest.body).code, 'VALIDATION');
    // ordinary nesting inside the limit is still an argument error, not a transport one
    const shallow = await rawMcp(toolCall('get_vms', '{"node":[[["pve1"]]]}'));
    assert.match(shallow.body, /"text":"VALIDATION: .*"isError":true/);
    assert.equal((await callTool(mcp, 'get_nodes')).isError, undefined, 'still serving');
  });

  test('C4: an over-long string argument is refused by its schema (maxLength), before PVE', async () => {
    const before = h.sim.totalRequests;
    const r = await callTool(mcp, 'get_node_status', { node: 'a'.repeat(100_000) });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^VALIDATION: .*node must be a Proxmox node name/);
    assert.equal(h.sim.totalRequests, before);
  });

  test('C5: __proto__ / constructor.prototype keys are refused as unknown arguments; nothing is polluted', async () => {
    const polluting = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}';
    const viaMcp = await rawMcp(toolCall('get_vms', polluting));
    // both keys reach the tool as sent (no parsed copy turns __proto__ into a prototype) and are refused
    assert.match(viaMcp.body, /VALIDATION: Invalid arguments: unknown arguments '__proto__', 'constructor'/);
    const rest = await rawRequest(`${h.url}/get_vms`, { method: 'POST', headers: json, body: polluting });
    assert.equal(rest.status, 400);
    const query = await rawRequest(`${h.url}/vms?__proto__[polluted]=1&constructor[prototype][polluted]=1`, {
      headers: bearer(API_KEY),
    });
    assert.equal(query.status, 400);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });

  test('C6: extra properties (force, purge, unprivileged) are refused, never forwarded to PVE', async () => {
    const before = h.sim.totalRequests;
    for (const extra of [{ force: true }, { purge: 1 }, { unprivileged: 0 }]) {
      const r = await callTool(mcp, 'get_vms', extra);
      assert.match(
        textOf(r),
        new RegExp(`^VALIDATION: Invalid arguments: unknown argument '${Object.keys(extra)[0]}'`),
      );
      const rest = await rawRequest(`${h.url}/vms?${Object.keys(extra)[0]}=1`, { headers: bearer(API_KEY) });
      assert.equal(rest.status, 400);
    }
    assert.equal(h.sim.totalRequests, before);
  });

  test('C7: a VMID as a digit string is accepted; arrays, objects, booleans and fractions are refused before PVE', async () => {
    assert.equal((await callTool(mcp, 'get_vm_config', { node: 'pve1', vmid: '100' })).isError, undefined);
    const before = h.sim.totalRequests;
    for (const vmid of [[100], {}, true, 100.5, '0100', -1]) {
      const r = await callTool(mcp, 'get_vm_config', { node: 'pve1', vmid });
      assert.equal(r.isError, true, JSON.stringify(vmid));
      assert.match(textOf(r), /^VALIDATION: .*vmid must be a Proxmox VM\/CT ID/);
    }
    assert.equal(h.sim.totalRequests, before);
  });

  test('C8: NUL, lone surrogates, RTL override and ANSI escapes in names are refused', async () => {
    for (const node of ['pve1\u0000', '\ud800', 'pve\u202e1', 'pve\u001b[31m1', 'pve1\r\nX-Injected: 1']) {
      const r = await callTool(mcp, 'get_node_status', { node });
      assert.match(textOf(r), /^VALIDATION: .*node must be a Proxmox node name/, JSON.stringify(node));
    }
  });
});
