import { readFileSync } from 'node:fs';

export interface ServerInfo {
  name: string;
  version: string;
}

export const SERVER_INFO = Symbol('SERVER_INFO');

/** Name and version from package.json, read once. */
export function readServerInfo(): ServerInfo {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as ServerInfo;
  return { name: pkg.name, version: pkg.version };
}

/** What `initialize` answers besides name and version; the HTTP servers and the stdio fast start share it. */
export const SERVER_TITLE = 'Proxmox MCP Plus';
export const SERVER_INSTRUCTIONS =
  'Operate Proxmox VE clusters. Read tools are safe; mutating tools return a job id and a Proxmox task id. ' +
  'When several targets are configured, pass `target` (see list_targets).';
export const SERVER_CAPABILITIES = {
  tools: { listChanged: false },
  logging: {},
  // resources, resource templates, prompts and argument completion (src/mcp/transport/mcp-catalog.ts)
  resources: {},
  prompts: {},
  completions: {},
  // durable jobs as MCP Tasks (src/mcp/transport/mcp-tasks.ts); advertised by server/discover (2026-07-28)
  extensions: { 'io.modelcontextprotocol/tasks': {} },
};

/** The SDK Server's identity argument. */
export const serverIdentity = (info: ServerInfo) => ({
  name: info.name,
  version: info.version,
  title: SERVER_TITLE,
});
