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
