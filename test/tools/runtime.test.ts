import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Node 24 LTS is the runtime we test and ship (Node 20 is end of life; Node 22 keeps working). These are the three
// places a user meets it: npm's engines check, the Docker image, and the Node that CI really runs the suite on
// (.ci/run brings Node 24 from the npm registry when the machine's node is older).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const major = (version: string) => Number(/^v?(\d+)/.exec(version)?.[1]);

describe('supported Node.js runtime', () => {
  test('engines accept Node 22.12+ and 24, and refuse the end-of-life Node 20', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const lowest = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(engines);
    assert.ok(lowest, `engines.node should be a lower bound (">=22.12.0"), got ${engines}`);
    assert.deepEqual(lowest.slice(1, 3).map(Number), [22, 12]);
  });

  test('the Docker image is built and run on Node 24', () => {
    const froms = read('docker/Dockerfile')
      .split('\n')
      .filter((line) => /^FROM\s/.test(line));
    assert.ok(froms.length >= 2, 'a build and a runtime stage');
    for (const from of froms) assert.match(from, /^FROM node:24-/);
  });

  test('the suite itself runs on Node 24 or later in CI (and on 22 or later anywhere)', () => {
    const running = major(process.version);
    assert.ok(running >= 22, `Node ${process.version} is older than the supported 22`);
    if (process.env.CI === 'true')
      assert.ok(running >= 24, `CI ran the suite on ${process.version}, not Node 24`);
  });
});
