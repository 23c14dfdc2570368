import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service.js';
import { argsDigest } from '../../src/audit/args-digest.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { jobsOf, startVmSpec, vmIn } from '../helpers/jobs.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { Clients, KEYS, bearer, callTool, scopedKeys, textOf } from './helpers.js';

const NO_JOB = '00000000-0000-4000-8000-000000000000';
const DAY = 24 * 60 * 60 * 1000;

describe('audit log: mutating calls and refusals, queryable by admins, bounded', () => {
  let h: Harness;
  let audit: AuditService;
  const clients = new Clients();

  before(async () => {
    h = await startHarness({ nodes: 2, guests: 12, taskSeconds: 30 }, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        http: { ...testConfig([]).http, apiKeys: [...testConfig([]).http.apiKeys, ...scopedKeys()] },
        audit: { retentionDays: 7 },
      }),
    );
    audit = h.server.app.get(AuditService);
  });
  after(async () => {
    await clients.closeAll();
    await h.close();
  });

  test('a mutating call is recorded with its outcome, the job it started, and an arguments digest', async () => {
    const operator = await clients.as(h.url, KEYS.operate);
    const job = await jobsOf(h.server.app).track(startVmSpec(vmIn(h.sim, 'stopped')));
    const cancelled = await callTool(operator, 'cancel_job', { job_id: job.job_id });
    assert.equal(cancelled.isError, undefined, textOf(cancelled));
    const failed = await callTool(operator, 'cancel_job', { job_id: NO_JOB });
    assert.equal(failed.isError, true);

    const { events } = await audit.list({ actor: 'operator', action: 'cancel_job' });
    const ok = events.find((e) => e.outcome === 'succeeded');
    assert.ok(ok, JSON.stringify(events));
    assert.equal(ok.target, 'default', 'the only target, resolved');
    assert.equal(ok.details?.job_id, job.job_id);
    assert.equal(ok.details?.via, 'mcp');
    assert.equal(ok.args_digest, argsDigest({ job_id: job.job_id }));
    const ko = events.find((e) => e.outcome === 'failed');
    assert.ok(ko);
    assert.match(ko.reason ?? '', /^NOT_FOUND: /);
  });

  test('read tools that succeed are not audited (the log stays about changes and refusals)', async () => {
    const before = (await audit.list({ action: 'get_vms' })).total;
    await request(h.url).get('/vms').set(bearer(KEYS.read)).expect(200);
    assert.equal((await audit.list({ action: 'get_vms' })).total, before);
  });

  test('list_audit_events filters by actor, action, outcome and since, newest first, paginated', async () => {
    for (let i = 0; i < 3; i++) await request(h.url).get('/audit/events').set(bearer(KEYS.read)).expect(403);
    const admin = await h.mcp();
    const page1 = await callTool(admin, 'list_audit_events', {
      actor: 'reader',
      outcome: 'denied',
      limit: 2,
    });
    assert.equal(page1.isError, undefined, textOf(page1));
    const p1 = page1.structuredContent;
    assert.equal(p1.events.length, 2);
    assert.ok(p1.total >= 3);
    assert.equal(p1.next_offset, 2);
    assert.equal(p1.truncated, true);
    assert.ok(p1.events[0].id > p1.events[1].id, 'newest first');
    for (const e of p1.events) {
      assert.equal(e.actor, 'reader');
      assert.equal(e.action, 'list_audit_events');
    }
    const p2 = (
      await callTool(admin, 'list_audit_events', { actor: 'reader', outcome: 'denied', limit: 2, offset: 2 })
    ).structuredContent;
    assert.ok(p2.events.every((e: { id: number }) => e.id < p1.events[1].id));

    const future = new Date(Date.now() + DAY).toISOString();
    assert.equal((await callTool(admin, 'list_audit_events', { since: future })).structuredContent.total, 0);
    const rest = await request(h.url)
      .get('/audit/events?action=list_audit_events&limit=1')
      .set(h.auth)
      .expect(200);
    assert.equal(rest.body.events.length, 1);
    const bad = await callTool(admin, 'list_audit_events', { since: 'yesterday', outcome: 'maybe' });
    assert.match(textOf(bad), /^VALIDATION: /);
    assert.match(textOf(bad), /since must be a valid ISO 8601/);
    assert.match(textOf(bad), /outcome must be one of/);
  });

  test('retention: events older than audit.retention_days are pruned (the oldest part of the hash chain)', async () => {
    const db = h.server.app.get(DataSource);
    await audit.record({ action: 'test.old', outcome: 'succeeded' });
    // everything up to test.old is old: pruning removes a prefix of the chain (docs/security.md)
    await db.query(
      `UPDATE audit_events SET at = ? WHERE id <= (SELECT id FROM audit_events WHERE action = 'test.old')`,
      [Date.now() - 8 * DAY],
    );
    await audit.record({ action: 'test.recent', outcome: 'succeeded' });
    const removed = await audit.prune();
    assert.ok(removed >= 1);
    assert.equal((await audit.list({ action: 'test.old' })).total, 0);
    assert.equal((await audit.list({ action: 'test.recent' })).total, 1);
    assert.equal((await audit.verify()).ok, true, 'the rest of the chain still verifies');
  });

  test('recorded text and details are redacted, and oversized details are cut', async () => {
    await audit.record({
      actor: 'ops',
      action: 'test.redaction',
      outcome: 'failed',
      reason: 'upstream said PVEAPIToken=root@pam!mcp=11111111-2222-3333-4444-555555555555',
      details: { nested: { deeper: { password: 'hunter2-hunter2' } }, command: 'mysql -pS3cret', pad: 'x' },
    });
    await audit.record({ action: 'test.big', outcome: 'failed', details: { blob: 'y'.repeat(20_000) } });
    const [event] = (await audit.list({ action: 'test.redaction' })).events;
    assert.equal(event.reason, 'upstream said PVEAPIToken=<redacted>');
    assert.deepEqual(event.details, {
      nested: { deeper: { password: '<redacted>' } },
      command: '<redacted>',
      pad: 'x',
    });
    const [big] = (await audit.list({ action: 'test.big' })).events;
    assert.deepEqual(big.details, {
      truncated: true,
      original_size: JSON.stringify({ blob: 'y'.repeat(20_000) }).length,
    });
  });
});
