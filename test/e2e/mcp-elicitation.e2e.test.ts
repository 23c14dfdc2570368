import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { modernRpc } from '../helpers/modern-rpc.js';
import { startModernStdio } from '../helpers/modern-stdio.js';

// Approvals by elicitation (MCP 2026-07-28 multi round-trip requests): a gated call from a client that can show a
// form is answered input_required with a form and an HMAC-sealed request state; the retry with the user's accept
// runs the call once, through the same single-use approval the token flow uses. Raw JSON-RPC, as on the wire.

const ELICIT = { capabilities: { elicitation: {} } };
const ACCEPT = { approval: { action: 'accept', content: { confirm: true } } };

function approvalHarness(policy: Parameters<typeof withOperator>[1]): Promise<Harness> {
  return startHarness({ taskSeconds: 0 }, (sim) =>
    withOperator(testConfig([simulatorTargetConfig(sim)]), { highRiskMode: 'enforce', ...policy }),
  );
}

/** The rollback requests the simulator received for a guest. */
const rollbacks = (h: Harness, vmid: number) =>
  h.sim.requestCount({ method: 'POST', path: new RegExp(`/${vmid}/snapshot/[^/]+/rollback$`) });

describe('approving a rollback_snapshot by elicitation', () => {
  let h: Harness;
  let rpc: ReturnType<typeof modernRpc>;
  const vmid = 102;
  let node: string;
  const rollback = () => ({
    name: 'rollback_snapshot',
    arguments: { node, vmid, snapname: 'before_change' },
  });

  before(async () => {
    h = await approvalHarness({ elicitationApprovalRisks: ['power', 'mutate', 'exec', 'destroy'] });
    rpc = modernRpc(h.url, h.auth);
    node = h.sim.cluster.guest(vmid)!.node;
    const made = await rpc('tools/call', {
      name: 'create_snapshot',
      arguments: { node, vmid, snapname: 'before_change', wait: true },
    });
    assert.equal(made.result?.structuredContent?.status, 'completed', JSON.stringify(made));
  });
  after(() => h.close());

  async function ask() {
    const asked = await rpc('tools/call', rollback(), ELICIT);
    assert.equal(asked.error, undefined, JSON.stringify(asked.error));
    assert.equal(asked.result.resultType, 'input_required', JSON.stringify(asked.result));
    return asked.result as { inputRequests: Record<string, any>; requestState: string };
  }

  test('the form says what will run; the accepted retry runs it once; the audit names who accepted', async () => {
    const asked = await ask();
    const form = asked.inputRequests.approval;
    assert.equal(form.method, 'elicitation/create');
    assert.equal(form.params.mode, 'form');
    assert.match(form.params.message, /^Approve rollback_snapshot on /);
    assert.match(form.params.message, /Risk: destroy/);
    assert.match(form.params.message, /"snapname":"before_change"/);
    assert.deepEqual(form.params.requestedSchema.required, ['confirm']);
    assert.equal(typeof asked.requestState, 'string');
    assert.equal(rollbacks(h, vmid), 0, 'nothing was sent before the answer');

    const done = await rpc('tools/call', {
      ...rollback(),
      inputResponses: ACCEPT,
      requestState: asked.requestState,
    });
    assert.equal(done.error, undefined, JSON.stringify(done.error));
    assert.equal(done.result.isError, undefined, JSON.stringify(done.result));
    assert.equal(done.result.structuredContent.tool_name, 'rollback_snapshot');
    assert.equal(rollbacks(h, vmid), 1);

    const audit = await request(h.url)
      .get('/audit/events')
      .query({ action: 'approval.approve' })
      .set(h.auth)
      .expect(200);
    const events = (audit.body.events ?? audit.body) as Array<{ actor: string; outcome: string }>;
    assert.ok(
      events.some((e) => e.actor.startsWith('elicitation:test') && e.outcome === 'succeeded'),
      JSON.stringify(events),
    );

    // the same state again (a replay): refused, nothing sent
    const replay = await rpc('tools/call', {
      ...rollback(),
      inputResponses: ACCEPT,
      requestState: asked.requestState,
    });
    assert.equal(replay.result.isError, true);
    assert.match(replay.result.content[0].text, /already approved; nothing was sent/);
    assert.equal(rollbacks(h, vmid), 1);
  });

  test('declined, forged, another caller, changed arguments: refused and nothing reaches Proxmox', async () => {
    const asked = await ask();
    const declined = await rpc('tools/call', {
      ...rollback(),
      inputResponses: { approval: { action: 'decline' } },
      requestState: asked.requestState,
    });
    assert.equal(declined.result.isError, true);
    assert.match(
      declined.result.content[0].text,
      /APPROVAL_DECLINED: The user did not approve rollback_snapshot \(decline\)/,
    );

    const forged = asked.requestState.slice(0, -4) + (asked.requestState.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const tampered = await rpc('tools/call', { ...rollback(), inputResponses: ACCEPT, requestState: forged });
    assert.equal(tampered.error?.code, -32602);
    assert.match(tampered.error.message, /Invalid or expired requestState/);

    const other = modernRpc(h.url, { authorization: `Bearer ${OPERATOR_KEY}` });
    const stolen = await other('tools/call', {
      ...rollback(),
      inputResponses: ACCEPT,
      requestState: asked.requestState,
    });
    assert.equal(stolen.error?.code, -32602, 'a state is bound to the caller it was minted for');

    const changed = await rpc('tools/call', {
      name: 'rollback_snapshot',
      arguments: { node, vmid, snapname: 'before_change', start: true },
      inputResponses: ACCEPT,
      requestState: asked.requestState,
    });
    assert.equal(changed.result.isError, true);
    assert.match(changed.result.content[0].text, /APPROVAL_MISMATCH/);
    assert.equal(rollbacks(h, vmid), 1, 'only the accepted call of the first test ran');
  });

  test('a 2025-era client, or one that cannot elicit, keeps the approval-token flow', async () => {
    const plain = await rpc('tools/call', rollback());
    assert.equal(plain.result.isError, true);
    assert.match(plain.result.content[0].text, /^APPROVAL_REQUIRED: /);
    const legacy = await h.mcp();
    const old = (await legacy.callTool(rollback())) as any;
    assert.equal(old.isError, true);
    assert.match(old.content[0].text, /^APPROVAL_REQUIRED: /);
  });
});

describe('elicitation approval policy and expiry', () => {
  test('destroy-level calls need a second key by default, even from a client that can elicit', async () => {
    const h = await approvalHarness({});
    try {
      const rpc = modernRpc(h.url, h.auth);
      const node = h.sim.cluster.guest(102)!.node;
      await rpc('tools/call', {
        name: 'create_snapshot',
        arguments: { node, vmid: 102, snapname: 'keep', wait: true },
      });
      const answer = await rpc(
        'tools/call',
        { name: 'delete_snapshot', arguments: { node, vmid: 102, snapname: 'keep' } },
        ELICIT,
      );
      assert.equal(answer.result.resultType, 'complete');
      assert.equal(answer.result.isError, true);
      assert.match(answer.result.content[0].text, /^APPROVAL_REQUIRED: /);
      assert.ok(h.sim.cluster.guest(102)!.snapshots.has('keep'));
    } finally {
      await h.close();
    }
  });

  test('an expired request state is refused', async () => {
    const h = await approvalHarness({ elicitationApprovalRisks: ['destroy'], approvalTtlSeconds: 1 });
    try {
      const rpc = modernRpc(h.url, h.auth);
      const node = h.sim.cluster.guest(104)!.node;
      await rpc('tools/call', {
        name: 'create_snapshot',
        arguments: { node, vmid: 104, snapname: 'old', wait: true },
      });
      const call = { name: 'rollback_snapshot', arguments: { node, vmid: 104, snapname: 'old' } };
      const asked = await rpc('tools/call', call, ELICIT);
      assert.equal(asked.result.resultType, 'input_required');
      await sleep(2100);
      const late = await rpc('tools/call', {
        ...call,
        inputResponses: ACCEPT,
        requestState: asked.result.requestState,
      });
      assert.equal(late.error?.code, -32602);
      assert.match(late.error.message, /Invalid or expired requestState/);
      assert.equal(rollbacks(h, 104), 0);
    } finally {
      await h.close();
    }
  });
});

describe('approving by elicitation over stdio', () => {
  test('the local user approves a rollback in the client; a replay of the same state sends nothing', async () => {
    const h = await startHarness({ taskSeconds: 0 });
    const stdio = startModernStdio(h.sim, { COMMAND_POLICY_ELICITATION_APPROVAL_RISKS: 'destroy' });
    try {
      const node = h.sim.cluster.guest(106)!.node;
      const made = await stdio.call(1, 'tools/call', {
        name: 'create_snapshot',
        arguments: { node, vmid: 106, snapname: 'stdio_before', wait: true },
      });
      assert.equal(made.result?.structuredContent?.status, 'completed', JSON.stringify(made));
      const call = { name: 'rollback_snapshot', arguments: { node, vmid: 106, snapname: 'stdio_before' } };
      const asked = await stdio.call(2, 'tools/call', call, ELICIT.capabilities);
      assert.equal(asked.result?.resultType, 'input_required', JSON.stringify(asked));
      assert.match(asked.result.inputRequests.approval.params.message, /^Approve rollback_snapshot on /);
      assert.equal(rollbacks(h, 106), 0);

      const retry = { ...call, inputResponses: ACCEPT, requestState: asked.result.requestState };
      const done = await stdio.call(3, 'tools/call', retry, ELICIT.capabilities);
      assert.equal(done.result?.isError, undefined, JSON.stringify(done));
      assert.equal(done.result.structuredContent.tool_name, 'rollback_snapshot');
      assert.equal(rollbacks(h, 106), 1);

      const replay = await stdio.call(4, 'tools/call', retry, ELICIT.capabilities);
      assert.equal(replay.result?.isError, true);
      assert.match(replay.result.content[0].text, /already approved; nothing was sent/);
      assert.equal(rollbacks(h, 106), 1);
    } finally {
      await stdio.close();
      await h.close();
    }
  });
});
