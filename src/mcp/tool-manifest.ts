import { readdirSync, readFileSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolFacts } from '../security/tool-visibility.js';

/*
 * The build-time tool manifest: the unfiltered tools/list table, written next to this module by
 * scripts/write-tool-manifest.mjs after tsc (npm run build, prepare). The stdio fast start answers tools/list from
 * it before the application is loaded; test/contract/tool-manifest.contract.test.ts keeps it equal to the live
 * table. Nothing here may import Nest or the MCP SDK: it runs before either is loaded.
 */

export const TOOL_MANIFEST_FORMAT = 1;
export const TOOL_MANIFEST_FILE = fileURLToPath(new URL('./tool-manifest.json', import.meta.url));
/** The compiled tree the manifest was generated from (dist/src). */
const COMPILED_ROOT = fileURLToPath(new URL('../', import.meta.url)).slice(0, -1);

/** One tools/list entry (name, title, description, inputSchema, outputSchema, annotations). */
export type ManifestTool = { name: string } & Record<string, unknown>;

export interface ToolManifest {
  format: typeof TOOL_MANIFEST_FORMAT;
  /** package.json version it was built with. */
  version: string;
  /** Every tool exactly as McpServerFactory.tools() lists it, before any filtering. */
  tools: ManifestTool[];
  /** Name, risk and scope of each tool, in the same order: what the access rules filter on. */
  facts: ToolFacts[];
}

export type ManifestRead = { ok: true; manifest: ToolManifest } | { ok: false; reason: string };

/**
 * The manifest if it can be trusted: present, well-formed, built for this version, and not older than any
 * compiled file (a `tsc` run without the manifest step may have changed the tools). Anything else → not ok, and
 * the caller boots the application first instead; a wrong list is never served.
 */
export function readToolManifest(version: string, file = TOOL_MANIFEST_FILE): ManifestRead {
  let manifest: ToolManifest;
  let writtenAt: number;
  try {
    writtenAt = statSync(file).mtimeMs;
    manifest = JSON.parse(readFileSync(file, 'utf8')) as ToolManifest;
  } catch (error) {
    return { ok: false, reason: `cannot read ${file}: ${(error as Error).message}` };
  }
  if (
    manifest?.format !== TOOL_MANIFEST_FORMAT ||
    !Array.isArray(manifest.tools) ||
    !Array.isArray(manifest.facts)
  )
    return { ok: false, reason: `${file} is not a format-${TOOL_MANIFEST_FORMAT} tool manifest` };
  if (manifest.version !== version)
    return { ok: false, reason: `${file} was built for version ${manifest.version}, not ${version}` };
  const aligned =
    manifest.tools.length === manifest.facts.length &&
    manifest.tools.every((t, i) => t?.name === manifest.facts[i]?.name);
  if (!aligned) return { ok: false, reason: `${file}: tools and facts do not match` };
  const newer = newestCompiledFile(COMPILED_ROOT, writtenAt);
  if (newer) return { ok: false, reason: `${newer} is newer than ${file} (run npm run build)` };
  return { ok: true, manifest };
}

/**
 * The first compiled .js file modified after `since`, if any (a few ms for the whole tree). A walk of its own:
 * `readdirSync(root, { recursive: true })` takes twice as long, and this runs before the stdio opening answers.
 */
function newestCompiledFile(dir: string, since: number): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}${sep}${entry.name}`; // path.join normalises: a third of the walk's time
    if (entry.isDirectory()) {
      const newer = newestCompiledFile(path, since);
      if (newer) return newer;
    } else if (entry.isFile() && entry.name.endsWith('.js') && statSync(path).mtimeMs > since) return path;
  }
  return undefined;
}
