import type {
  CompleteResult,
  GetPromptResult,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  ReadResourceResult,
  Server,
  ServerContext,
} from '@modelcontextprotocol/server';

// The catalog's wiring into an SDK server, apart from the catalog itself (mcp-catalog.ts, which needs the
// application): the stdio fast start builds its server from this before Nest is loaded.

export interface CompleteParams {
  ref: { type: string; name?: string; uri?: string };
  argument: { name: string; value: string };
  context?: { arguments?: Record<string, string> };
}

/** The catalog methods one caller's server answers (part of McpToolHandlers; the stdio fast start proxies them). */
export interface McpCatalogHandlers {
  listResources(): Promise<ListResourcesResult>;
  listResourceTemplates(): Promise<ListResourceTemplatesResult>;
  readResource(uri: string, ctx: ServerContext): Promise<ReadResourceResult>;
  listPrompts(): Promise<ListPromptsResult>;
  getPrompt(name: string, args: Record<string, string> | undefined): Promise<GetPromptResult>;
  complete(params: CompleteParams, ctx: ServerContext): Promise<CompleteResult>;
}

/** resources/list, resources/templates/list, resources/read, prompts/list, prompts/get, completion/complete. */
export function registerCatalog(server: Server, handlers: McpCatalogHandlers): void {
  server.setRequestHandler('resources/list', () => handlers.listResources());
  server.setRequestHandler('resources/templates/list', () => handlers.listResourceTemplates());
  server.setRequestHandler('resources/read', (request, ctx) =>
    handlers.readResource(request.params.uri, ctx),
  );
  server.setRequestHandler('prompts/list', () => handlers.listPrompts());
  server.setRequestHandler('prompts/get', (request) =>
    handlers.getPrompt(request.params.name, request.params.arguments),
  );
  server.setRequestHandler('completion/complete', (request, ctx) => handlers.complete(request.params, ctx));
}

/** The same methods, answered once the application has started (the stdio fast start). */
export function deferredCatalog(live: () => Promise<McpCatalogHandlers>): McpCatalogHandlers {
  return {
    listResources: async () => (await live()).listResources(),
    listResourceTemplates: async () => (await live()).listResourceTemplates(),
    readResource: async (uri, ctx) => (await live()).readResource(uri, ctx),
    listPrompts: async () => (await live()).listPrompts(),
    getPrompt: async (name, args) => (await live()).getPrompt(name, args),
    complete: async (params, ctx) => (await live()).complete(params, ctx),
  };
}
