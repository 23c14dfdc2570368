import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The layer order of src/ (docs/architecture.md) is enforced by `npm run lint:layers` with the project's own
// .dependency-cruiser.mjs. These cases run that exact config over small trees made for the purpose, so a rule that
// stopped firing (a typo in a path pattern, a layer left out) fails here instead of letting a loop in unseen.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-layers-'));
  try {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }),
    );
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = spawnSync(
      process.execPath,
      [DEPCRUISE, 'src', '--config', join(ROOT, '.dependency-cruiser.mjs'), '--output-type', 'err-long'],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A tree that follows the order: a domain uses the tool contract (common), guests and the gateway. */
const LAWFUL: Record<string, string> = {
  'src/common/tools/contract.ts': 'export type Risk = "read" | "mutate";\n',
  'src/proxmox/gateway.ts':
    'import type { Risk } from "../common/tools/contract.js";\nexport const risk: Risk = "read";\n',
  'src/modules/guests/state.ts':
    'import { risk } from "../../proxmox/gateway.js";\nexport const state = risk;\n',
  'src/modules/vms/vms.service.ts':
    'import { state } from "../guests/state.js";\nexport const vms = state;\n',
};

describe('layer order (npm run lint:layers)', () => {
  test('a tree that imports only downwards passes', () => {
    const { status, output } = cruise(LAWFUL);
    assert.equal(status, 0, output);
  });

  test('a low layer importing a higher one fails, naming the rule and both files (type-only imports too)', () => {
    const { status, output } = cruise({
      ...LAWFUL,
      'src/mcp/registry.ts': 'export interface Registry { size: number }\n',
      'src/common/tools/contract.ts':
        'import type { Registry } from "../../mcp/registry.js";\nexport type Risk = "read";\nexport type R = Registry;\n',
    });
    assert.notEqual(status, 0, output);
    assert.match(output, /layer-common/);
    assert.match(output, /src\/common\/tools\/contract\.ts → src\/mcp\/registry\.ts/);
  });

  test('two files that import each other fail as a cycle, even inside one folder', () => {
    const { status, output } = cruise({
      ...LAWFUL,
      'src/audit/a.ts': 'import { b } from "./b.js";\nexport const a = () => b;\n',
      'src/audit/b.ts': 'import { a } from "./a.js";\nexport const b = () => a;\n',
    });
    assert.notEqual(status, 0, output);
    assert.match(output, /no-circular/);
  });

  test('a domain importing another domain (not guests) fails', () => {
    const { status, output } = cruise({
      ...LAWFUL,
      'src/modules/cluster/cluster.service.ts': 'export const cluster = 1;\n',
      'src/modules/vms/vms.service.ts':
        'import { cluster } from "../cluster/cluster.service.js";\nexport const vms = cluster;\n',
    });
    assert.notEqual(status, 0, output);
    assert.match(output, /modules-share-only-guests/);
  });

  test('a new folder of src/ must be given a layer first', () => {
    const { status, output } = cruise({
      ...LAWFUL,
      'src/webhooks/send.ts':
        'import type { Risk } from "../common/tools/contract.js";\nexport const r: Risk = "read";\n',
    });
    assert.notEqual(status, 0, output);
    assert.match(output, /src-file-outside-layers/);
  });
});
