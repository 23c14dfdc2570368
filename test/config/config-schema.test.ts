import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_SECTIONS, API_TUNNEL, FILE_SECTIONS } from '../../src/config/config-schema.js';
import { allowedKeys, envNames } from '../../src/config/config-table.js';

/** The key table of proxmox-config/README.md: `section.key` → the Environment column. */
function documentedKeys(): Map<string, string> {
  const readme = readFileSync(resolve('proxmox-config/README.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const line of readme.split('\n')) {
    const match = /^\| `([a-z_]+)\.([a-z_]+)` \|.*\| ([^|]+) \|$/.exec(line);
    if (match) rows.set(`${match[1]}.${match[2]}`, match[3]);
  }
  return rows;
}

const variablesIn = (text: string): string[] => [...text.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]);

/** Read by their parser, not through the overlay: each variable is one more admin key. */
const PARSER_VARIABLES: Record<string, string[]> = {
  'security.api_keys': ['MCP_API_KEY', 'PROXMOX_API_KEY'],
};

/** Sections whose keys the README lists in one row (`api_tunnel.*`) or in a section of their own (`targets`). */
const NOT_IN_THE_KEY_TABLE = new Set(['api_tunnel', 'targets']);

describe('the field tables match the documented keys and variables (proxmox-config/README.md)', () => {
  const documented = documentedKeys();

  test('every key of every section is documented, and every documented key exists', () => {
    const declared = FILE_SECTIONS.filter((s) => !NOT_IN_THE_KEY_TABLE.has(s)).flatMap((section) =>
      allowedKeys(section, ALL_SECTIONS).map((key) => `${section}.${key}`),
    );
    assert.deepEqual([...documented.keys()].sort(), declared.sort());
    const tunnelRow = readFileSync(resolve('proxmox-config/README.md'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('| `api_tunnel.*`'));
    assert.deepEqual(
      [...(tunnelRow ?? '').split('|')[2].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]),
      allowedKeys(API_TUNNEL.name, ALL_SECTIONS),
    );
  });

  test('each key names the variables the loader reads, and "(both)" exactly when they win over the file', () => {
    for (const [path, column] of documented) {
      const [section, key] = path.split('.');
      const declared = envNames(section, ALL_SECTIONS)[key];
      const names = declared === undefined ? [] : typeof declared === 'string' ? [declared] : [...declared];
      assert.deepEqual(variablesIn(column), [...names, ...(PARSER_VARIABLES[path] ?? [])], path);
      const overFile = envNames(section, ALL_SECTIONS, true)[key] !== undefined;
      if (names.length > 0) assert.equal(column.includes('(both'), overFile, `${path}: ${column}`);
    }
  });
});
