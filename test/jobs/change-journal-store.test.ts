import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { jobStoreEngines, type OpenedStore } from '../helpers/job-stores.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { simGuest, toolCalls } from '../helpers/tools.js';

// The `changes` table on both job stores: written by an edit, read by list_changes, linked by a revert, and still
// there after a restart of the server on the same store.
for (const engine of jobStoreEngines()) {
  describe(`change journal on ${engine.name}`, { skip: engine.skip }, () => {
    let store: OpenedStore;
    let h: Harness | undefined;
    let mcp: Client;
    const { ok } = toolCalls(() => mcp);
    const start = async () => {
      h = await startHarness({ nodes: 1, guests: 2, taskSeconds: 0 }, (sim) =>
        testConfig([simulatorTargetConfig(sim)], { jobs: store.jobs }),
      );
      mcp = await h.mcp();
      await mcp.listTools();
    };

    before(async () => {
      store = await engine.open();
      await start();
    });
    after(async () => {
      await h?.close();
      await store.close();
    });

    test('edit, list, revert; the journal outlives the server process', async () => {
      const vm = simGuest(h!.sim, 100);
      await ok('update_vm_config', { node: vm.node, vmid: 100, description: 'journal on ' + engine.name });
      const [change] = (await ok('list_changes', {})).changes;
      assert.equal(change.tool, 'update_vm_config');
      assert.deepEqual(change.fields, ['description']);
      const reverted = await ok('revert_change', { id: change.id });
      assert.ok(reverted.change_id > change.id);
      // a new server on the same store (the simulator restarts too: its state is new, the journal is not)
      await h!.close();
      await start();
      const list = await ok('list_changes', { limit: 5 });
      assert.equal(list.total, 2);
      assert.equal(list.changes[0].revert_of, change.id);
      assert.equal(list.changes[1].reverted_by, list.changes[0].id);
      assert.match(list.changes[1].after.description, new RegExp(engine.name));
    });
  });
}
