import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankTools, stem, words, type SearchableTool } from '../../src/modules/tool-catalog/tool-search.js';

const tool = (name: string, title: string, description: string, args: string[] = []): SearchableTool => ({
  name,
  title,
  description,
  args,
});

const TOOLS = [
  tool('list_snapshots', 'List snapshots', 'Snapshots of one guest, newest first.', ['node', 'vmid']),
  tool(
    'rollback_snapshot',
    'Roll back to a snapshot',
    'Return a guest to a snapshot; later changes are lost.',
    ['node', 'vmid', 'snapname'],
  ),
  tool('create_snapshot', 'Take a snapshot', 'Snapshot a VM or container, optionally with its RAM.', [
    'snapname',
    'vmstate',
  ]),
  tool('get_containers', 'List containers', 'Every LXC container with status and resources.'),
  tool('get_vms', 'List VMs', 'Every QEMU virtual machine with status.'),
  tool('start_vm', 'Start a VM', 'Power on a stopped VM.', ['node', 'vmid']),
];

test('words: lower case, stop words out, plurals stemmed, a few synonyms', () => {
  assert.deepEqual(words('List the Snapshots of my VMs'), ['list', 'snapshot', 'vm']);
  assert.deepEqual(words('lxc qemu boot'), ['container', 'vm', 'start']);
  assert.equal(stem('policies'), 'policy');
  assert.equal(stem('address'), 'address');
  assert.equal(stem('status'), 'status');
});

test('a name match outranks a title match, which outranks an argument or a description match', () => {
  const hits = rankTools('snapshot rollback', TOOLS);
  assert.equal(hits[0].name, 'rollback_snapshot');
  assert.deepEqual(hits[0].matched, ['snapshot:name', 'rollback:name']);
  assert.equal(hits[0].score, 8 + 8 + 3);
  // snapshot matches the other snapshot tools by name (8), without the all-words bonus
  assert.deepEqual(
    hits.slice(1).map((h) => [h.name, h.score]),
    [
      ['create_snapshot', 8],
      ['list_snapshots', 8],
    ],
  );
});

test('argument names and descriptions count less; prefixes half', () => {
  const byArg = rankTools('snapname', TOOLS);
  assert.deepEqual(
    byArg.map((h) => [h.name, h.score, h.matched]),
    [
      ['create_snapshot', 2 + 3, ['snapname:argument']],
      ['rollback_snapshot', 2 + 3, ['snapname:argument']],
    ],
  );
  const byPrefix = rankTools('contain', TOOLS);
  assert.equal(byPrefix[0].name, 'get_containers');
  assert.equal(byPrefix[0].score, 4 + 3); // half of a name match
  const byDescription = rankTools('RAM', TOOLS);
  assert.deepEqual(
    byDescription.map((h) => [h.name, h.score]),
    [['create_snapshot', 1 + 3]],
  );
});

test('the toolset counts like an argument name', () => {
  const withSet = [
    ...TOOLS,
    {
      ...tool('get_ha_status', 'HA status', 'Quorum and HA manager state.'),
      toolset: 'ha High availability',
    },
  ];
  assert.deepEqual(
    rankTools('high availability', withSet).map((h) => [h.name, h.score, h.matched]),
    [['get_ha_status', 2 + 2 + 3, ['high:toolset', 'availability:toolset']]],
  );
});

test('synonyms: lxc finds the containers, qemu the VMs; the exact tool name comes first', () => {
  assert.equal(rankTools('lxc', TOOLS)[0].name, 'get_containers');
  assert.equal(rankTools('qemu machines', TOOLS)[0].name, 'get_vms');
  assert.equal(rankTools('start vm', TOOLS)[0].name, 'start_vm');
  assert.equal(rankTools('start_vm', TOOLS)[0].score, 8 + 8 + 3 + 20);
});

test('deterministic: ties by name; nothing for no words or no match', () => {
  assert.deepEqual(rankTools('vmid', TOOLS), rankTools('vmid', [...TOOLS].reverse()));
  assert.deepEqual(
    rankTools('vmid', TOOLS).map((h) => h.name),
    ['list_snapshots', 'rollback_snapshot', 'start_vm'],
  );
  assert.deepEqual(rankTools('the of', TOOLS), []);
  assert.deepEqual(rankTools('firewall', TOOLS), []);
});
