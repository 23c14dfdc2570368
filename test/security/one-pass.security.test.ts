import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionContext } from '@nestjs/common';
import { PrincipalGuard } from '../../src/security/principal.guard.js';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';
import { MCP_HEADERS, bearer } from './helpers.js';

/**
 * Authentication happens once per HTTP request (the API-key middleware) and the guard chain once per tool call:
 * the HTTP request that carries a tool call (POST /mcp, POST /{tool}) does not pass the guards a second time.
 */
describe('one pass of the guards per tool call', () => {
  let h: Harness;
  const passes: string[] = [];
  const original = Object.getOwnPropertyDescriptor(PrincipalGuard.prototype, 'canActivate');

  before(async () => {
    const check = PrincipalGuard.prototype.canActivate.bind(new PrincipalGuard());
    PrincipalGuard.prototype.canActivate = (context: ExecutionContext) => {
      passes.push(context.getType());
      return check(context);
    };
    h = await startHarness();
  });
  after(async () => {
    if (original) Object.defineProperty(PrincipalGuard.prototype, 'canActivate', original);
    await h.close();
  });

  const counted = async (send: () => Promise<Response>) => {
    passes.length = 0;
    const r = await send();
    await r.text();
    assert.equal(r.status, 200);
    return [...passes];
  };

  test('MCP tools/call: the guards run once, for the tool call', async () => {
    const types = await counted(() =>
      fetch(`${h.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...bearer(API_KEY) },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'get_vms', arguments: {} },
        }),
      }),
    );
    assert.deepEqual(types, ['mcp']);
  });

  test('MCP tools/list runs no tool and passes no guard', async () => {
    const types = await counted(() =>
      fetch(`${h.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...bearer(API_KEY) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      }),
    );
    assert.deepEqual(types, []);
  });

  test('POST /{tool} and the REST route: once each', async () => {
    const viaToolRoute = await counted(() =>
      fetch(`${h.url}/get_vms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(API_KEY) },
        body: '{}',
      }),
    );
    assert.deepEqual(viaToolRoute, ['mcp']);
    const viaRest = await counted(() => fetch(`${h.url}/vms`, { headers: bearer(API_KEY) }));
    assert.deepEqual(viaRest, ['http']);
  });

  test('a query-string approval_token on POST /mcp is still refused before anything runs', async () => {
    const before = h.sim.totalRequests;
    const r = await fetch(`${h.url}/mcp?approval_token=abc`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(API_KEY) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { code: string; message: string };
    assert.equal(body.code, 'VALIDATION');
    assert.match(body.message, /approval_token is not accepted in the query string/);
    assert.equal(h.sim.totalRequests, before);
  });
});
