import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHarness, type Harness } from '../helpers/test-app.js';

type Schema = Record<string, any>;

/** Rebuilds a flat tool schema from an OpenAPI operation's path/query parameters and JSON body. */
function schemaOfOperation(op: Schema): Schema {
  const properties: Schema = {};
  const required: string[] = [];
  for (const p of op.parameters ?? []) {
    properties[p.name] = p.schema;
    if (p.required) required.push(p.name);
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  for (const [name, s] of Object.entries<Schema>(body?.properties ?? {})) properties[name] = s;
  required.push(...(body?.required ?? []));
  return {
    type: 'object',
    properties,
    ...(required.length ? { required: [...new Set(required)].sort() } : {}),
    additionalProperties: false,
  };
}

describe('contract: REST, Swagger and MCP describe the same tools with the same schemas', () => {
  let h: Harness;
  let mcp: Client;
  let doc: Schema;

  before(async () => {
    h = await startHarness();
    mcp = await h.mcp();
    doc = (await request(h.url).get('/openapi.json').set(h.auth).expect(200)).body;
  });
  after(() => h.close());

  test('the document is OpenAPI 3.1', () => {
    assert.match(doc.openapi, /^3\.1\./);
  });

  test('every MCP tool is one REST operation (operationId = tool name) with an identical input and output schema', async () => {
    const { tools } = await mcp.listTools();
    const ops = new Map<string, { path: string; method: string; op: Schema }>();
    for (const [path, methods] of Object.entries<Schema>(doc.paths)) {
      for (const [method, op] of Object.entries<Schema>(methods)) {
        if (op['x-mcp-tool']) ops.set(op.operationId, { path, method, op });
      }
    }
    // POST /{tool} is operation `{tool}_tool` (describe_tool's own route is not: its operationId only ends so)
    const legacy = (id: string) =>
      id.endsWith('_tool') && ops.get(id)!.path === `/${id.slice(0, -'_tool'.length)}`;
    const resourceOps = [...ops.keys()].filter((id) => !legacy(id)).sort();
    assert.deepEqual(resourceOps, tools.map((t) => t.name).sort(), 'same tool set');
    for (const tool of tools) {
      const { op } = ops.get(tool.name)!;
      assert.deepEqual(schemaOfOperation(op), tool.inputSchema, `${tool.name}: input schema`);
      // a list answered in the reference's shape (GET /jobs): the array itself, paging in X-Total-Count & co.
      const listOf = op.responses['200'].headers?.['X-Total-Count']
        ? Object.values<Schema>((tool.outputSchema?.properties ?? {}) as Schema).find(
            (p) => p.type === 'array',
          )
        : undefined;
      assert.deepEqual(
        op.responses['200'].content['application/json'].schema,
        listOf ?? tool.outputSchema,
        `${tool.name}: output schema`,
      );
      const legacy = doc.paths[`/${tool.name}`]?.post;
      assert.ok(legacy, `${tool.name}: POST /${tool.name} documented`);
      assert.deepEqual(legacy.requestBody.content['application/json'].schema, tool.inputSchema);
      assert.deepEqual(legacy.responses['200'].content['application/json'].schema, tool.outputSchema);
    }
  });

  test('the REST route and the MCP tool reject the same bad input', async () => {
    const rest = await request(h.url).get('/nodes/pve1/vms/42/config').set(h.auth).expect(400);
    const viaMcp = (await mcp.callTool({
      name: 'get_vm_config',
      arguments: { node: 'pve1', vmid: 42 },
    })) as any;
    assert.equal(viaMcp.isError, true);
    for (const message of rest.body.details.errors as string[])
      assert.ok(viaMcp.content[0].text.includes(message));
  });
});
