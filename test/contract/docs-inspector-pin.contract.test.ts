import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { INSPECTOR_PACKAGE } from '../helpers/npx-tool.js';

// An unpinned `npx @modelcontextprotocol/inspector` can resolve to an old release that refuses the documented
// flags: every Inspector command the client docs show names the release CI runs (test/e2e/mcp-inspector).
test('docs/clients.md shows the MCP Inspector pinned to the version CI tests, with the flags that version takes', () => {
  const doc = readFileSync('docs/clients.md', 'utf8');
  const mentions = [...doc.matchAll(/@modelcontextprotocol\/inspector(@[\w.-]+)?/g)].map((m) => m[0]);
  assert.ok(mentions.length > 0, 'docs/clients.md shows how to run the MCP Inspector');
  for (const mention of mentions) assert.equal(mention, INSPECTOR_PACKAGE, mention);
  const commands = doc
    .split('\n')
    .filter((l) => l.includes(`npx -y -p ${INSPECTOR_PACKAGE} mcp-inspector --cli`));
  assert.ok(commands.length > 0, 'a CLI command line with the pinned package');
  assert.match(doc, /--transport http --header "Authorization: Bearer <MCP_API_KEY>" --method tools\/list/);
});
