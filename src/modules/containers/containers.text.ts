import type { GuestConfigDto } from '../guests/dto/guest.dto.js';
import { guestConfigText } from '../guests/guest-config.text.js';
import { partialNote, usageLine } from '../../common/format/human.js';
import { referenceJson } from '../../common/format/reference-json.js';
import type { ContainerActionResultDto } from './dto/container-actions.dto.js';
import type { ContainerExecResultDto, ContainerSshKeysResultDto } from './dto/container-exec.dto.js';
import type { ContainerIpDto, ContainerListDto } from './dto/containers.dto.js';

/** pretty: the reference's layout; json: its row objects. */
export const containersText = (r: ContainerListDto): string => {
  if (r.format_style === 'json') {
    return JSON.stringify(
      r.containers.map((c) => ({
        vmid: c.vmid,
        name: c.name,
        node: c.node,
        status: c.status,
        cpu_pct: c.cpu_percent,
        cores: c.cpus,
        mem_bytes: c.memory.used_bytes,
        maxmem_bytes: c.memory.total_bytes,
        mem_pct: c.memory.used_percent,
      })),
      null,
      2,
    );
  }
  return (
    [
      'Containers',
      ...r.containers.flatMap((c) => [
        '',
        `${c.name} (ID: ${c.vmid})`,
        `  - Status: ${c.status.toUpperCase()}`,
        `  - Node: ${c.node}`,
        `  - CPU: ${c.cpu_percent.toFixed(1)}%`,
        `  - CPU Cores: ${c.cpus || 'N/A'}`,
        `  - Memory: ${c.unlimited_memory ? '(unlimited)' : usageLine(c.memory.used_bytes, c.memory.total_bytes)}`,
      ]),
      ...(r.truncated
        ? ['', `Showing ${r.containers.length} of ${r.total}; use offset/limit for more.`]
        : []),
    ].join('\n') + partialNote(r.unavailable_nodes)
  );
};

/**
 * get_container_config: the reference's JSON first (PVE's config keys with digest, and vmid as a string when PVE
 * did not send one; sorted keys), which scripts `json.loads`; then the human listing.
 */
export const containerConfigTexts = (c: GuestConfigDto): string[] => [
  referenceJson(
    { ...c.config, ...(c.digest !== undefined ? { digest: c.digest } : {}), vmid: String(c.vmid) },
    true,
  ),
  guestConfigText(c),
];

/** get_container_ip: the reference's `{vmid, name, interfaces: [{name, inet?, inet6?}], primary_ip}` JSON, then the summary. */
export const containerIpTexts = (r: ContainerIpDto): string[] => [
  referenceJson(
    {
      vmid: String(r.vmid),
      name: r.name,
      interfaces: r.interfaces.map((i) => ({ name: i.name, inet: i.inet, inet6: i.inet6 })),
      primary_ip: r.primary_ip ?? null,
    },
    true,
  ),
  containerIpText(r),
];

export const containerIpText = (r: ContainerIpDto): string =>
  [
    `Container ${r.name} (ID: ${r.vmid}) on ${r.node}`,
    `  - Primary IP: ${r.primary_ip ?? 'none'}`,
    ...r.interfaces.map(
      (i) => `  - ${i.name}: ${[i.inet, i.inet6].filter(Boolean).join(', ') || 'no address'}`,
    ),
  ].join('\n');

const ACTION_TITLES: Record<string, string> = {
  start: 'Start Containers',
  stop: 'Stop Containers',
  restart: 'Restart Containers',
  delete: 'Delete Containers',
  update: 'Update Container Resources',
};

/**
 * pretty: the reference's title and one `OK|FAIL name (ID: …, node: …) - message` line per container, plus the
 * jobs to follow (`Task ID:` / `Job ID:` lines); json: its list of `{ok, node, vmid, name, message|error, task_id, job_id}`.
 */
export function containerActionText(r: ContainerActionResultDto): string {
  if (r.format_style === 'json') {
    return JSON.stringify(
      r.results.map((item) => ({
        ok: item.ok,
        node: item.node,
        vmid: item.vmid,
        name: item.name,
        ...(item.ok ? { message: item.message } : { error: item.error }),
        ...(item.job_id ? { task_id: item.task_id ?? null, job_id: item.job_id } : {}),
      })),
      null,
      2,
    );
  }
  const lines = [ACTION_TITLES[r.action] ?? r.action, ''];
  for (const item of r.results) {
    lines.push(
      `${item.ok ? 'OK' : 'FAIL'} ${item.name} (ID: ${item.vmid}, node: ${item.node}) - ${item.ok ? item.message : item.error}`,
    );
    // the reference's Task ID / Job ID lines, one pair per job (a forced delete has a stop and a delete job)
    for (const job of item.jobs ?? (item.job ? [item.job] : [])) {
      lines.push(
        `    ${job.summary}: ${job.status}${job.last_error ? ` (${job.last_error})` : ''}`,
        `    Task ID: ${job.task_id ?? 'n/a'}`,
        `    Job ID: ${job.job_id}`,
      );
    }
  }
  if (r.results.length > 1) lines.push('', `${r.succeeded} succeeded, ${r.failed} failed`);
  return lines.join('\n');
}

/** The reference's command result block (its tag dropped) with the exit code; never the command text itself. */
export function containerExecText(r: ContainerExecResultDto): string {
  const state = r.timed_out
    ? `TIMED OUT (killed after the time limit)`
    : r.exit_code === 0
      ? 'SUCCESS'
      : `FAILED (${r.exit_code !== null ? `exit code ${r.exit_code}` : `signal ${r.signal ?? 'N/A'}`})`;
  const lines = [
    'Command result',
    `  - Status: ${state}`,
    `  - Container: ${r.name} (ID: ${r.vmid}) on ${r.node}`,
  ];
  if (r.exit_code !== null) lines.push(`  - Exit code: ${r.exit_code}`);
  const cut = (truncated: boolean, total: number) =>
    truncated ? ` (truncated to ${r.output_limit_bytes} of ${total} bytes)` : '';
  if (r.stdout) lines.push('', `Output${cut(r.stdout_truncated, r.stdout_bytes)}:`, r.stdout.trimEnd());
  if (r.stderr) lines.push('', `Error${cut(r.stderr_truncated, r.stderr_bytes)}:`, r.stderr.trimEnd());
  return lines.join('\n');
}

/**
 * execute_container_command: the reference's `{"success", "output", "error", "exit_code"}` JSON (its key order,
 * unsorted) first — scripts `json.loads` it — then the human result block.
 */
export const containerExecTexts = (r: ContainerExecResultDto): string[] => [
  referenceJson({ success: r.success, output: r.stdout, error: r.stderr, exit_code: r.exit_code }),
  containerExecText(r),
];

/** update_container_ssh_keys: the reference's `{"success", "keys_added"}` JSON, then the summary. */
export const sshKeysTexts = (r: ContainerSshKeysResultDto): string[] => [
  referenceJson({ success: r.success, keys_added: r.keys_added }),
  sshKeysText(r),
];

export const sshKeysText = (r: ContainerSshKeysResultDto): string =>
  `authorized_keys of root in CT ${r.vmid} on ${r.node} (${r.mode}): ${r.keys_added} key(s) added, ${r.keys_total} in total`;
