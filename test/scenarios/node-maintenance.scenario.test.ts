import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  E2E_TAG,
  WAIT_SECONDS,
  openScenarioTarget,
  storySteps,
  type Job,
  type ScenarioTarget,
} from './harness.js';

// Story (issue 16): a node needs maintenance. The operator's agent looks at what runs there (two test VMs, one
// under HA), checks that they are backed up (not covered by a backup job: so back them up now), opens the node's
// firewall for a management network during the window, moves the guests away (the plain VM with migrate_vm, the
// HA-managed one through the HA manager: migrate_vm refuses it and names migrate_ha_resource), sees in the
// metrics and the inventory that the guests now run on the other node, closes the window again (an approved
// delete_firewall_rule) and cleans up: HA resource, VMs and backups, each destructive step approved.
describe('scenario: node maintenance: guests moved away (HA through HA), backups checked, firewall window', () => {
  let t: ScenarioTarget;
  /** The node under maintenance (where the guests start) and the node they move to. */
  let source: string;
  let dest: string;
  /** Set when the target cannot play the story (a single online node): every step skips with it. */
  let skipReason: string | undefined;
  /** The plain VM (migrate_vm) and the HA-managed one (migrate_ha_resource). */
  let plainVm: number;
  let haVm: number;
  let haAdded = false;
  const backups = new Map<number, string>();
  const hex = randomBytes(3).toString('hex');
  const ruleComment = `${E2E_TAG} maintenance window ${hex}`;
  // TEST-NET-2 (RFC 5737): a management network that exists nowhere, so opening 8006/tcp to it lets nobody in
  const managementCidr = '198.51.100.0/24';
  let ruleAdded = false;
  const step = storySteps();

  type Rule = { pos: number; comment?: string; action: string; dport?: string; source?: string };
  type RuleList = { rules: Rule[]; digest?: string };
  type Unprotected = {
    vmid: number;
    node?: string;
    newest_backup?: { volid: string; storage: string; age_seconds: number; created_at: string };
  };

  const ourRule = async (): Promise<{ rule: Rule | undefined; digest?: string }> => {
    const list = await t.ops.tool<RuleList>('list_firewall_rules', { scope: 'node', node: source });
    return { rule: list.rules.find((r) => r.comment === ruleComment), digest: list.digest };
  };
  const unprotected = async () =>
    (await t.ops.tool<{ guests: Unprotected[] }>('get_unprotected_guests')).guests;
  /** Whether an enabled backup job already selects the guest (a live cluster may back up `all`). */
  const coveredByJob = async (vmid: number, node: string): Promise<boolean> => {
    type JobRow = {
      enabled: boolean;
      selection: string;
      vmids?: number[];
      exclude?: number[];
      node?: string;
    };
    const { jobs } = await t.ops.tool<{ jobs: JobRow[] }>('list_backup_jobs');
    return jobs.some(
      (j) =>
        j.enabled &&
        (!j.node || j.node === node) &&
        ((j.selection === 'all' && !(j.exclude ?? []).includes(vmid)) || (j.vmids ?? []).includes(vmid)),
    );
  };

  before(async () => (t = await openScenarioTarget()));
  after(async () => {
    if (!t) return;
    // what a failed story left besides its guests (those the harness deletes): HA entry first, as PVE refuses to
    // destroy an HA-managed guest; then the firewall rule and the backups
    const leftovers: string[] = [];
    /** fn returns false when there was nothing left to remove after all. */
    const tidy = async (what: string, fn: () => Promise<unknown>) => {
      try {
        if ((await fn()) === false) return;
        leftovers.push(`${what} was left by the story and removed at close`);
      } catch (error) {
        leftovers.push(`${what} could NOT be removed: ${(error as Error).message}`);
      }
    };
    if (haAdded)
      await tidy(`HA resource vm:${haVm}`, () => t.ops.approvedTool('remove_ha_resource', { vmid: haVm }));
    if (ruleAdded) {
      await tidy(`firewall rule '${ruleComment}' on ${source}`, async () => {
        const { rule, digest } = await ourRule();
        if (!rule) return false;
        await t.ops.approvedTool('delete_firewall_rule', {
          scope: 'node',
          node: source,
          pos: rule.pos,
          digest,
        });
      });
    }
    for (const [vmid, volid] of backups) {
      await tidy(`backup ${volid}`, async () =>
        t.ops.finish(
          await t.ops.approvedTool<Job>('delete_backup', {
            node: t.node,
            storage: t.backupStorage,
            volid,
            wait: true,
          }),
        ),
      );
      backups.delete(vmid);
    }
    // the harness deletes leftover guests (wherever they moved) and stops the server; its report comes after ours
    const problems = leftovers.length
      ? [`the story did not clean up after itself: ${leftovers.join('; ')}`]
      : [];
    try {
      await t.close();
    } catch (error) {
      problems.push((error as Error).message);
    }
    if (problems.length) throw new Error(problems.join(' / '));
  });

  step(
    'two online nodes; two small VMs started on the node under maintenance, one put under HA',
    async (ctx) => {
      source = t.node;
      const { nodes } = await t.ops.tool<{ nodes: Array<{ node: string; status: string }> }>('get_nodes');
      const other = nodes.find((n) => n.node !== source && n.status === 'online');
      if (!other) {
        skipReason = `the story needs a second online node to move the guests to; target '${t.target}' has only ${source}`;
        return ctx.skip(skipReason);
      }
      dest = other.node;
      assert.ok(
        t.backupStorage,
        `no storage on ${source} takes backups (set PROXMOX_MCP_E2E_BACKUP_STORAGE)`,
      );

      plainVm = await t.ops.createTestVm(t, 'maintenance');
      haVm = await t.ops.createTestVm(t, 'maintenance');
      for (const vmid of [plainVm, haVm]) {
        const job = await t.ops.tool<Job>('start_vm', {
          node: source,
          vmid,
          wait: true,
          wait_timeout_seconds: WAIT_SECONDS,
        });
        assert.equal(job.status, 'completed', job.last_error ?? '');
        assert.equal((await t.ops.vm(source, vmid))?.status, 'running');
      }

      const added = await t.ops.tool('add_ha_resource', {
        vmid: haVm,
        state: 'started',
        comment: `${E2E_TAG} scenario (node maintenance)`,
      });
      haAdded = true;
      assert.deepEqual(
        { sid: added.resource.sid, node: added.resource.node, state: added.resource.state },
        { sid: `vm:${haVm}`, node: source, state: 'started' },
      );
      const { resources } = await t.ops.tool<{
        resources: Array<{ sid: string; node?: string; state?: string }>;
      }>('list_ha_resources');
      const listed = resources.find((r) => r.sid === `vm:${haVm}`);
      assert.ok(listed, `vm:${haVm} is not in list_ha_resources: ${JSON.stringify(resources)}`);
      assert.equal(listed.node, source);
      assert.ok(!resources.some((r) => r.sid === `vm:${plainVm}`), 'only one of the two is under HA');
    },
  );

  step(
    'backup coverage: the new guests are unprotected; create_backup of each; their newest backup shows',
    async (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      const before = await unprotected();
      for (const vmid of [plainVm, haVm]) {
        const row = before.find((g) => g.vmid === vmid);
        if (row) {
          assert.equal(row.node, source);
          assert.equal(row.newest_backup, undefined, `VM ${vmid} is new: no backup yet`);
        } else {
          // on a live cluster a job backing up `all` covers new guests at once; the simulator has no such job
          assert.equal(t.kind, 'live', `VM ${vmid} is missing from get_unprotected_guests`);
          assert.ok(
            await coveredByJob(vmid, source),
            `VM ${vmid} is neither unprotected nor selected by a job`,
          );
        }
      }

      for (const vmid of [plainVm, haVm]) {
        // snapshot mode: the guests keep running, as they must before a maintenance
        const job = await t.ops.tool<Job>('create_backup', {
          node: source,
          vmid,
          storage: t.backupStorage,
          mode: 'snapshot',
          compress: 'zstd',
          notes: `${E2E_TAG} before maintenance of {{node}}`,
          wait: true,
          wait_timeout_seconds: 600,
        });
        await t.ops.finish(job);
        const list = await t.ops.tool('list_backups', { vmid, storage: t.backupStorage });
        assert.equal(list.backups.length, 1, JSON.stringify(list.backups));
        backups.set(vmid, list.backups[0].volid);
        assert.equal(
          (await t.ops.vm(source, vmid))?.status,
          'running',
          'a snapshot-mode backup keeps it running',
        );
      }

      const after = await unprotected();
      for (const vmid of [plainVm, haVm]) {
        const row = after.find((g) => g.vmid === vmid);
        if (!row) continue; // covered by a job (live only, asserted above)
        assert.ok(row.newest_backup, `get_unprotected_guests shows no backup for VM ${vmid}`);
        assert.equal(row.newest_backup.volid, backups.get(vmid));
        assert.equal(row.newest_backup.storage, t.backupStorage);
        assert.ok(
          row.newest_backup.age_seconds >= 0 && row.newest_backup.age_seconds < 3600,
          `a backup made just now is ${row.newest_backup.age_seconds} s old`,
        );
      }
    },
  );

  step('firewall: the node opens 8006/tcp to the management network for the window (REST)', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const res = await t.ops.rest('POST', `/firewall/rules?scope=node&node=${encodeURIComponent(source)}`, {
      type: 'in',
      action: 'ACCEPT',
      proto: 'tcp',
      dport: '8006',
      source: managementCidr,
      comment: ruleComment,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ruleAdded = true;
    assert.equal(res.body.rule.pos, 0, 'a new rule goes first');
    assert.equal(res.body.rule.enable, true);
    // the agent reads it back over MCP
    const { rule } = await ourRule();
    assert.ok(rule, `list_firewall_rules does not show '${ruleComment}'`);
    assert.deepEqual(
      { action: rule.action, dport: rule.dport, source: rule.source },
      { action: 'ACCEPT', dport: '8006', source: managementCidr },
    );
  });

  step('migrate_vm refuses the HA-managed VM and names migrate_ha_resource; nothing moves', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const refused = await t.ops.raw('migrate_vm', { node: source, vmid: haVm, target_node: dest });
    assert.equal(refused.isError, true, 'migrate_vm moved an HA-managed VM behind the HA manager');
    const text = (refused.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');
    assert.match(text, /managed by HA/, text);
    assert.match(text, new RegExp(`migrate_ha_resource \\(vmid ${haVm}, target_node ${dest}\\)`), text);
    assert.equal((await t.ops.vm(undefined, haVm))?.node, source);
  });

  step('migrate_vm moves the plain VM away (live, wait): it runs on the other node', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const job = await t.ops.tool<Job>('migrate_vm', {
      node: source,
      vmid: plainVm,
      target_node: dest,
      wait: true,
      wait_timeout_seconds: 600,
    });
    await t.ops.finish(job);
    assert.match(job.task_id ?? '', new RegExp(`:qmigrate:${plainVm}:`));
    const moved = await t.ops.vm(undefined, plainVm);
    assert.deepEqual({ node: moved?.node, status: moved?.status }, { node: dest, status: 'running' });
  });

  step('migrate_ha_resource moves the HA VM through the HA manager (REST, wait)', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const res = await t.ops.rest('POST', `/ha/resources/${haVm}/migrate`, {
      target_node: dest,
      wait: true,
      wait_timeout_seconds: 600,
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const job = await t.ops.finish(res.body as Job);
    assert.equal(job.tool_name, 'migrate_ha_resource');
    const moved = await t.ops.vm(undefined, haVm);
    assert.deepEqual({ node: moved?.node, status: moved?.status }, { node: dest, status: 'running' });
    const { resources } = await t.ops.tool<{ resources: Array<{ sid: string; node?: string }> }>(
      'list_ha_resources',
    );
    assert.equal(resources.find((r) => r.sid === `vm:${haVm}`)?.node, dest, 'HA has it on the new node');
    // the node under maintenance no longer runs any of the story's guests
    const { vms } = await t.ops.tool<{ vms: Array<{ vmid: number }> }>('get_vms', { node: source });
    assert.deepEqual(
      vms.filter((v) => v.vmid === plainVm || v.vmid === haVm),
      [],
    );
  });

  // What is honestly assertable about "the load moved": the RRD history of a guest is cluster-wide (PVE keeps it
  // by VM ID, so it does not restart on the new node), the simulator's series are synthesized around the current
  // figures (no before/after step to compare), and on a real cluster two VMs without an OS move a few hundred MiB
  // at most, lost in the nodes' own noise. So the metrics tools are checked for where they see the guests (the
  // inventory side) and that both nodes answer, not for a drop or rise in a curve.
  step(
    'metrics: the guests are measured on the new node; both nodes answer; the top list follows',
    async (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      for (const vmid of [plainVm, haVm]) {
        const m = await t.ops.tool('get_guest_metrics', { vmid, include_series: false });
        assert.deepEqual(
          { node: m.node, vmid: m.vmid, status: m.status },
          { node: dest, vmid, status: 'running' },
        );
        assert.ok(
          m.metrics.some((x: { name: string }) => x.name === 'cpu'),
          JSON.stringify(m.metrics.map((x: { name: string }) => x.name)),
        );
        // REST agrees
        const rest = await t.ops.rest('GET', `/guests/${vmid}/metrics?include_series=false`);
        assert.equal(rest.status, 200, JSON.stringify(rest.body));
        assert.equal(rest.body.node, dest);
      }
      for (const node of [source, dest]) {
        const m = await t.ops.tool('get_node_metrics', { node, include_series: false });
        assert.equal(m.node, node);
        const mem = m.metrics.find((x: { name: string }) => x.name === 'mem_used');
        assert.ok(mem && mem.points > 0, `no memory history for ${node}: ${JSON.stringify(m.metrics)}`);
      }
      type Top = { guests: Array<{ vmid: number; node: string }>; candidates: number };
      const onDest = await t.ops.tool<Top>('get_top_guests', { by: 'memory', node: dest, limit: 50 });
      const onSource = await t.ops.tool<Top>('get_top_guests', { by: 'memory', node: source, limit: 50 });
      assert.ok(onDest.guests.every((g) => g.node === dest));
      assert.deepEqual(
        onSource.guests.filter((g) => g.vmid === plainVm || g.vmid === haVm),
        [],
        'the node under maintenance ranks none of the moved guests',
      );
      // every running guest of the node is ranked when there are no more than the limit
      if (onDest.candidates <= 50) {
        for (const vmid of [plainVm, haVm]) {
          assert.ok(
            onDest.guests.some((g) => g.vmid === vmid),
            `get_top_guests on ${dest} does not rank VM ${vmid}`,
          );
        }
      }
    },
  );

  step('the window closes: delete_firewall_rule (approved) removes exactly that rule', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const { rule, digest } = await ourRule();
    assert.ok(rule, `the rule '${ruleComment}' is gone before the story removed it`);
    const removed = await t.ops.approvedTool('delete_firewall_rule', {
      scope: 'node',
      node: source,
      pos: rule.pos,
      ...(digest ? { digest } : {}),
    });
    assert.equal(removed.removed, true);
    assert.equal(removed.rule.comment, ruleComment);
    ruleAdded = false;
    assert.equal((await ourRule()).rule, undefined, 'the rule is no longer listed');
  });

  step(
    'cleanup: remove_ha_resource, delete both VMs (force) and their backups, each approved',
    async (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      await t.ops.approvedTool('remove_ha_resource', { vmid: haVm });
      haAdded = false;
      const { resources } = await t.ops.tool<{ resources: Array<{ sid: string }> }>('list_ha_resources');
      assert.ok(!resources.some((r) => r.sid === `vm:${haVm}`), `vm:${haVm} is still under HA`);

      for (const vmid of [plainVm, haVm]) {
        await t.ops.finish(await t.ops.approvedTool<Job>('delete_vm', { node: dest, vmid, force: true }));
        assert.equal(await t.ops.vm(undefined, vmid), undefined, `VM ${vmid} is gone`);
      }
      for (const [vmid, volid] of [...backups]) {
        const job = await t.ops.approvedTool<Job>('delete_backup', {
          node: source,
          storage: t.backupStorage,
          volid,
          wait: true,
        });
        await t.ops.finish(job);
        backups.delete(vmid);
        const list = await t.ops.tool('list_backups', { vmid, storage: t.backupStorage });
        assert.deepEqual(list.backups, [], `the backup of VM ${vmid} is gone`);
      }
    },
  );
});
