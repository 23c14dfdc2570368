import type { OpenAPIObject } from '@nestjs/swagger';
import type { JsonSchema, ToolDefinition } from '../../common/tools/tool-definition.js';

type Operation = Record<string, unknown>;

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: {
      type: 'string',
      description: 'Stable error code, e.g. VALIDATION, NOT_FOUND, UPSTREAM_UNAVAILABLE',
    },
    message: { type: 'string' },
    detail: {
      description:
        "The reference's (FastAPI's) field: a validation failure's list of {loc, msg, type} (msg 'Field required' for a missing argument), {message} for a failed POST /{tool_name} call, else the message",
    },
    hint: { type: 'string', description: 'What to do about it' },
    details: { type: 'object' },
  },
  required: ['statusCode', 'code', 'message', 'detail'],
};

const pick = (schema: JsonSchema, names: string[]): JsonSchema => {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = ((schema.required as string[] | undefined) ?? []).filter((n) => names.includes(n));
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, props[n]])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
};

/**
 * Writes the tools' own schemas (the ones MCP serves and the ValidationPipe enforces) into the OpenAPI
 * document, so Swagger shows exactly what is validated, and documents the reference's POST /{tool_name} routes.
 */
export function patchOpenApi(document: OpenAPIObject, tools: readonly ToolDefinition[]): OpenAPIObject {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.Error = ERROR_SCHEMA;
  const errorResponse = {
    description: 'Error (JSON, never HTML)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  const okResponse = (tool: ToolDefinition) => ({
    description: tool.title,
    content: { 'application/json': { schema: tool.outputSchema } },
  });
  // GET /jobs: the array itself, paging in headers (the reference's shape); POST /{tool} keeps the object
  const listResponse = (tool: ToolDefinition, key: string) => ({
    description: `${tool.title}: a JSON array; X-Total-Count is the number of matches, X-Limit and X-Offset the page`,
    headers: Object.fromEntries(
      ['X-Total-Count', 'X-Limit', 'X-Offset'].map((h) => [h, { schema: { type: 'integer' } }]),
    ),
    content: {
      'application/json': {
        schema: ((tool.outputSchema.properties ?? {}) as Record<string, JsonSchema>)[key],
      },
    },
  });
  const paths = document.paths as Record<string, Record<string, Operation>>;

  for (const tool of tools) {
    const op = paths[tool.route.path]?.[tool.route.method.toLowerCase()];
    if (!op)
      throw new Error(`OpenAPI: no operation for ${tool.name} at ${tool.route.method} ${tool.route.path}`);
    const props = (tool.inputSchema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((tool.inputSchema.required as string[] | undefined) ?? []);
    const names = (slot: string) => Object.keys(tool.slots).filter((n) => tool.slots[n] === slot);
    op.parameters = [
      ...names('param').map((name) => ({ name, in: 'path', required: true, schema: props[name] })),
      ...names('query').map((name) => ({
        name,
        in: 'query',
        required: required.has(name),
        schema: props[name],
        ...(props[name]?.description ? { description: props[name].description } : {}),
      })),
    ];
    const bodyNames = names('body');
    if (bodyNames.length) {
      op.requestBody = {
        required: bodyNames.some((n) => required.has(n)),
        content: { 'application/json': { schema: pick(tool.inputSchema, bodyNames) } },
      };
    } else delete op.requestBody;
    op.responses = {
      '200': tool.options.restList ? listResponse(tool, tool.options.restList) : okResponse(tool),
      default: errorResponse,
    };
    op.security = [{ bearer: [] }];

    paths[`/${tool.name}`] = {
      post: {
        operationId: `${tool.name}_tool`,
        summary: `${tool.title} (tool route)`,
        description: `The reference project's POST /${tool.name} route: all arguments flat in the JSON body. ${tool.description}`,
        tags: ['tools (POST /{tool_name})'],
        'x-mcp-tool': { name: tool.name, risk: tool.risk },
        requestBody: {
          required: required.size > 0,
          content: { 'application/json': { schema: tool.inputSchema } },
        },
        responses: { '200': okResponse(tool), default: errorResponse },
        security: [{ bearer: [] }],
      },
    };
  }
  // Swagger's own (empty) schemas for DTO classes are replaced by the inline ones above.
  for (const tool of tools) delete document.components.schemas[tool.output.name];
  return document;
}
