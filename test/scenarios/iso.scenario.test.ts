import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { E2E_TAG, openScenarioTarget, storySteps, type Job, type ScenarioTarget } from './harness.js';

// Story: an operator has a node download an installer ISO into a storage, checksum verified, finds it in the
// list and deletes it again (approved). Live, the node itself fetches PROXMOX_MCP_E2E_ISO_URL (a small image;
// PROXMOX_MCP_E2E_ISO_SHA256 its checksum); without it the story is skipped. The simulator fetches nothing: its
// "file" is the URL's own text, so the checksum of that text is the right one. The URL there is an address
// literal because the server's SSRF guard resolves host names and this offline machine has no DNS.
const liveUrl = process.env.PROXMOX_MCP_E2E_ISO_URL;
const skip =
  process.env.PROXMOX_MCP_E2E_LIVE === '1' && !liveUrl
    ? 'PROXMOX_MCP_E2E_ISO_URL is not set (a small ISO the node can download)'
    : false;

describe('scenario: download an ISO, find it, delete it', { skip }, () => {
  let t: ScenarioTarget;
  const filename = `${E2E_TAG}-${randomBytes(3).toString('hex')}.iso`;
  let url: string;
  let checksum: string | undefined;
  let volid: string;
  const step = storySteps();

  before(async () => {
    t = await openScenarioTarget();
    url = t.kind === 'live' ? liveUrl! : `https://203.0.114.10/images/${filename}`;
    checksum =
      t.kind === 'live'
        ? process.env.PROXMOX_MCP_E2E_ISO_SHA256
        : createHash('sha256').update(url).digest('hex');
  });
  after(() => t?.close());

  step('download_iso into an ISO storage of the node, checksum verified by Proxmox', async () => {
    assert.ok(t.isoStorage, `no storage on ${t.node} holds ISO images (set PROXMOX_MCP_E2E_ISO_STORAGE)`);
    const job = await t.ops.tool<Job>('download_iso', {
      node: t.node,
      storage: t.isoStorage,
      url,
      filename,
      ...(checksum ? { checksum, checksum_algorithm: 'sha256' } : {}),
      wait: true,
      wait_timeout_seconds: 900,
    });
    await t.ops.finish(job);
  });

  step('list_isos shows it under its volume ID; the same over REST', async () => {
    const list = await t.ops.tool('list_isos', { node: t.node, storage: t.isoStorage });
    const iso = list.isos.find((i: { name: string }) => i.name === filename);
    assert.ok(
      iso,
      `${filename} is listed: ${JSON.stringify(list.isos.map((i: { name: string }) => i.name))}`,
    );
    volid = iso.volid;
    assert.equal(volid, `${t.isoStorage}:iso/${filename}`);
    const rest = await t.ops.rest('GET', `/isos?node=${t.node}&storage=${t.isoStorage}`);
    assert.equal(rest.status, 200);
    assert.ok(rest.body.isos.some((i: { volid: string }) => i.volid === volid));
  });

  step('delete_iso (approved) removes exactly that file', async () => {
    const job = await t.ops.approvedTool<Job>('delete_iso', {
      node: t.node,
      storage: t.isoStorage,
      filename: volid,
      wait: true,
    });
    await t.ops.finish(job);
    const list = await t.ops.tool('list_isos', { node: t.node, storage: t.isoStorage });
    assert.ok(!list.isos.some((i: { volid: string }) => i.volid === volid), 'it is gone');
  });
});
