import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { resultText, simRequests, toolCalls, harnessSuite, type ToolResult } from '../helpers/tools.js';
import { startApprovalHarness } from '../helpers/approvals.js';
import type { Harness } from '../helpers/test-app.js';

/**
 * The generic contract of plans (issue 17): EVERY tool with risk above read takes `dry_run: true` and answers a
 * plan — over MCP, validated by the SDK against the tool's outputSchema — while nothing reaches PVE but reads, no
 * job row is written and no approval is requested (the harness enforces approvals for destroy tools: a requested
 * approval would be an APPROVAL_REQUIRED error, not a plan). A new mutating tool without an entry below fails here.
 *
 * Simulator: 3 nodes, 12 guests (even vmids VMs, odd containers, round-robin pve1..pve3): VM 100 (pve1) running with
 * snapshots, CT 101 (pve2) snapshot `initial`, CT 103 (pve1) stopped, VM 104 (pve2) stopped, VM 110 (pve2) running.
 */
const JOB = 'set-by-the-test';
const VM = { node: 'pve2', vmid: 104 };
const CT = { node: 'pve1', vmid: 103 };
const ARGS: Record<string, Record<string, unknown>> = {
  add_firewall_rule: { scope: 'cluster', type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22' },
  add_ha_resource: { vmid: 104 },
  add_ha_rule: {
    rule: 'keep-apart',
    type: 'resource-affinity',
    resources: ['vm:104', 'vm:106'],
    affinity: 'negative',
  },
  cancel_job: { job_id: JOB },
  clone_container: { node: 'pve1', source_vmid: 103 },
  clone_vm: { node: 'pve2', source_vmid: 104 },
  convert_container_to_template: CT,
  convert_vm_to_template: VM,
  create_backup: { ...VM, storage: 'local' },
  create_backup_job: { schedule: 'daily', storage: 'local', vmids: [104] },
  create_container: { node: 'pve1', ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' },
  create_pool: { poolid: 'planned' },
  create_snapshot: { ...VM, snapname: 'planned' },
  create_vm: { node: 'pve1', name: 'planned' },
  delete_backup: {
    node: 'pve1',
    storage: 'local',
    volid: 'local:backup/vzdump-qemu-104-2025_01_14-02_00_00.vma.zst',
  },
  delete_backup_job: { id: 'nightly' },
  delete_container: { selector: '103' },
  delete_firewall_rule: { scope: 'cluster', pos: 0 },
  delete_ha_rule: { rule: 'keep-apart' },
  delete_iso: { node: 'pve1', storage: 'local', filename: 'debian-12.iso' },
  delete_pool: { poolid: 'planned' },
  delete_snapshot: { node: 'pve1', vmid: 100, snapname: 'before-upgrade' },
  delete_vm: VM,
  download_iso: { node: 'pve1', storage: 'local', filename: 'x.iso', url: 'https://example.com/x.iso' },
  download_template: {
    node: 'pve1',
    storage: 'local',
    filename: 'x.tar.zst',
    url: 'https://example.com/x.tar.zst',
  },
  execute_container_command: { selector: '101', command: ['true'] },
  execute_node_command: { node: 'pve1', command: 'uptime' },
  execute_vm_command: { node: 'pve1', vmid: 100, command: ['true'] },
  migrate_container: { ...CT, target_node: 'pve2' },
  migrate_ha_resource: { vmid: 104, target_node: 'pve1' },
  migrate_vm: { ...VM, target_node: 'pve1' },
  move_container_volume: { ...CT, volume: 'rootfs', storage: 'local' },
  move_vm_disk: { ...VM, disk: 'scsi0', storage: 'nas' },
  read_vm_file: { node: 'pve1', vmid: 100, path: '/etc/hostname' },
  reboot_vm: { node: 'pve1', vmid: 100 },
  reconcile_job: { job_id: JOB },
  relocate_ha_resource: { vmid: 104, target_node: 'pve1' },
  remove_ha_resource: { vmid: 104 },
  reset_vm: { node: 'pve1', vmid: 100 },
  resize_container_disk: { ...CT, size: '+1G' },
  resize_vm_disk: { ...VM, disk: 'scsi0', size: '+1G' },
  restart_container: { selector: '101' },
  restore_backup: {
    node: 'pve2',
    vmid: 990,
    archive: 'local:backup/vzdump-qemu-104-2025_01_14-02_00_00.vma.zst',
  },
  resume_vm: { node: 'pve1', vmid: 100 },
  retry_job: { job_id: JOB },
  revert_change: { id: 1 },
  freeze_changes: { reason: 'planned maintenance window' },
  unfreeze_changes: {},
  rollback_snapshot: { node: 'pve1', vmid: 100, snapname: 'before-upgrade' },
  run_backup_job: { id: 'nightly' },
  set_container_description: { ...CT, description: 'planned' },
  set_firewall_options: { scope: 'cluster', enable: true },
  set_vm_description: { ...VM, description: 'planned' },
  shutdown_vm: { node: 'pve1', vmid: 100 },
  start_container: { selector: '103' },
  start_vm: VM,
  stop_container: { selector: '101' },
  stop_vm: { node: 'pve1', vmid: 100 },
  suspend_vm: { node: 'pve1', vmid: 100 },
  update_backup_job: { id: 'nightly', enabled: false },
  update_container_network: { ...CT, network_bridge: 'vmbr1' },
  update_container_ssh_keys: {
    ...CT,
    public_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3b0Hk2v3rQm0j1lX0n0vWw3J9t1K4gq3o8q2r2y3u4 a@b'],
  },
  update_container_resources: { selector: '103', memory: 1024 },
  update_firewall_rule: { scope: 'cluster', pos: 0, enable: false },
  update_ha_resource: { vmid: 104, comment: 'planned' },
  update_ha_rule: { rule: 'keep-apart', comment: 'planned' },
  update_pool: { poolid: 'planned', comment: 'planned' },
  update_vm_config: { ...VM, memory: 4096 },
  write_vm_file: { node: 'pve1', vmid: 100, path: '/tmp/planned', content: 'x' },
};

describe('dry_run over the whole registry', () => {
  let h: Harness;
  let mcp: Client;
  const { call } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);

  harnessSuite(
    () => startApprovalHarness({ nodes: 3, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('every tool with risk above read advertises dry_run and plan_digest, and has an entry here', async () => {
    const { tools } = await mcp.listTools();
    const planned = tools.filter((t) => 'dry_run' in (t.inputSchema.properties ?? {})).map((t) => t.name);
    const mutating = tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name);
    assert.ok(planned.length > 50, `${planned.length} plannable tools`);
    for (const name of planned) {
      assert.ok(name in ARGS, `${name} takes dry_run: add valid arguments for it to ARGS`);
      const tool = tools.find((t) => t.name === name)!;
      assert.ok('plan_digest' in (tool.inputSchema.properties ?? {}), `${name}: plan_digest`);
      assert.ok(Array.isArray(tool.outputSchema?.anyOf), `${name}: the output schema admits the plan`);
    }
    for (const name of mutating) assert.ok(planned.includes(name) || !(name in ARGS), name);
    const listed = tools.map((t) => t.name);
    for (const name of Object.keys(ARGS)) {
      // exec tools are hidden unless enabled (exposure); every listed one must be plannable
      if (listed.includes(name)) assert.ok(planned.includes(name), `${name} is no longer plannable`);
    }
  });

  test('each dry run answers a plan, sends nothing but reads, writes no job and asks no approval', async () => {
    // a real job for the job tools to plan on (VM 102 on pve3 is used by nothing else here)
    const started = await call('create_snapshot', {
      node: 'pve3',
      vmid: 102,
      snapname: 'jobsource',
      wait: true,
    });
    assert.equal(started.isError, undefined, resultText(started));
    const jobId = (started.structuredContent as { job_id: string }).job_id;
    for (const tool of ['cancel_job', 'retry_job', 'reconcile_job']) ARGS[tool].job_id = jobId;
    // real volumes of the seeded storages
    const { ok } = toolCalls(() => mcp);
    const backup = (await ok('list_backups', {})).backups.find(
      (b: { guest_type?: string }) => b.guest_type === 'qemu',
    );
    assert.ok(backup, 'a seeded VM backup');
    ARGS.delete_backup = { node: backup.node, storage: backup.storage, volid: backup.volid };
    ARGS.restore_backup = { node: backup.node, vmid: 990, archive: backup.volid };
    const iso = (await ok('list_isos', { node: 'pve1' })).isos[0];
    ARGS.delete_iso = { node: 'pve1', storage: iso.storage, filename: iso.name };
    const template = (await ok('list_templates', { node: 'pve1' })).templates[0];
    ARGS.create_container = { node: 'pve1', ostemplate: template.volid };
    const jobsBefore = ((await call('list_jobs', {})).structuredContent as { total: number }).total;
    const seq = lastSeq();
    const failing: string[] = [];
    const { tools } = await mcp.listTools();
    for (const [name, args] of Object.entries(ARGS)) {
      if (!tools.some((t) => t.name === name)) continue;
      const r: ToolResult = await call(name, { ...args, dry_run: true });
      if (r.isError && /^POLICY_DENIED: /.test(resultText(r))) {
        // the command policy (a guard) refuses before any plan: nothing allowlisted on this server
        assert.match(name, /^execute_/, resultText(r));
        assert.deepEqual(mutations(seq), [], name);
        continue;
      }
      assert.equal(r.isError, undefined, `${name}: ${resultText(r)}`);
      const plan = r.structuredContent as Record<string, any>;
      assert.equal(plan.dry_run, true, name);
      assert.equal(plan.tool, name);
      assert.equal(plan.target, 'default');
      assert.match(plan.plan_digest, /^[0-9a-f]{64}$/, name);
      for (const key of ['requests', 'affected', 'checks', 'warnings'])
        assert.ok(Array.isArray(plan[key]), `${name}.${key}`);
      assert.equal(typeof plan.would_succeed, 'boolean', name);
      if (plan.would_succeed) {
        // read_vm_file is exec-risk (runs through the guest agent) but only reads
        if (name !== 'read_vm_file')
          assert.ok(plan.requests.length > 0, `${name}: a plan that would succeed would change something`);
      } else {
        assert.ok(plan.error?.code && plan.error?.message, `${name}: a failing plan says why`);
        failing.push(`${name}: ${plan.error.code} ${plan.error.message}`);
      }
      assert.match(resultText(r), new RegExp(`^Plan for ${name}`), name);
      assert.deepEqual(mutations(seq), [], `${name}: a dry run sends no POST/PUT/DELETE`);
    }
    const jobsAfter = ((await call('list_jobs', {})).structuredContent as { total: number }).total;
    assert.equal(jobsAfter, jobsBefore, 'no job row was written');
    // the kill switch's own tools change this server's state only: planned, not applied
    const freeze = (await call('get_freeze_status', {})).structuredContent as { frozen: boolean };
    assert.equal(freeze.frozen, false, 'freeze_changes with dry_run froze nothing');
    // most plans of this table succeed; the few that fail do so on the state of the world (a job that does not
    // exist, SSH not configured, …), which the plan names
    const mustSucceed = [
      'start_vm',
      'delete_vm',
      'migrate_vm',
      'restore_backup',
      'create_snapshot',
      'update_vm_config',
      'create_pool',
      'add_ha_resource',
      'create_backup',
      'delete_backup',
      'move_vm_disk',
      'create_container',
      'freeze_changes',
      'unfreeze_changes',
    ];
    for (const name of mustSucceed)
      assert.ok(!failing.some((f) => f.startsWith(`${name}:`)), failing.join('\n'));
    assert.ok(failing.length < Object.keys(ARGS).length / 2, failing.join('\n'));
  });
});
