import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { JobEntity } from '../../src/jobs/job.entity.js';
import { JobsStore } from '../../src/jobs/jobs.store.js';
import { ProxmoxGateway } from '../../src/proxmox/proxmox.gateway.js';
import { JobsPoller } from '../../src/jobs/jobs.poller.js';
import { JobsService } from '../../src/jobs/jobs.service.js';
import type { TrackSpec, WaitRequest } from '../../src/jobs/job.types.js';
import { pvePath } from '../../src/proxmox/pve-path.js';
import type { PveSimulator } from '../../src/simulator/index.js';

const handedOut = new WeakMap<PveSimulator, Set<number>>();

/**
 * A qemu guest of the simulated cluster in the given state that no earlier call handed out, so a test's tasks
 * never race another test's tasks on the same VM.
 */
export function vmIn(sim: PveSimulator, status: 'running' | 'stopped'): { node: string; vmid: number } {
  const used = handedOut.get(sim) ?? new Set<number>();
  handedOut.set(sim, used);
  const guest = [...sim.cluster.guests()].find(
    (g) =>
      g.type === 'qemu' && g.status === status && !g.lock && !g.template && !g.paused && !used.has(g.vmid),
  );
  if (!guest) throw new Error(`the simulated cluster has no unused ${status} VM left (seed more guests)`);
  used.add(guest.vmid);
  return { node: guest.node, vmid: guest.vmid };
}

/** A real power-action job through JobsService.track, as a domain tool would start it. */
export function startVmSpec(vm: { node: string; vmid: number }, action = 'start'): TrackSpec {
  return {
    toolName: `${action}_vm`,
    summary: `${action} VM ${vm.vmid} on ${vm.node}`,
    node: vm.node,
    request: { method: 'POST', path: pvePath`/nodes/${vm.node}/qemu/${vm.vmid}/status/${action}` },
    metadata: { vmid: vm.vmid },
    recipeKind: `vm.${action}`,
    expectedTask: { type: `qm${action}`, id: String(vm.vmid) },
  };
}

export function jobsOf(app: INestApplication) {
  const service = app.get(JobsService);
  const poller = app.get(JobsPoller);
  return {
    service,
    poller,
    track: (spec: TrackSpec, wait?: WaitRequest) => service.track(spec, wait),
  };
}

/**
 * What a server killed mid-request leaves behind: the job row written before sending (`pending`, or `retrying`),
 * `ageMs` old, without the UPID the request may or may not have started. Built like JobsService.track builds it.
 */
export async function recordInterruptedJob(
  app: INestApplication,
  spec: TrackSpec,
  options: { ageMs: number; status?: 'pending' | 'unknown'; upid?: string; lastEvent?: string },
): Promise<string> {
  const at = Date.now() - options.ageMs;
  const jobId = randomUUID();
  const job = Object.assign(new JobEntity(), {
    jobId,
    target: 'default',
    toolName: spec.toolName,
    summary: spec.summary,
    node: spec.node,
    upid: options.upid ?? null,
    status: options.status ?? 'pending',
    progress: null,
    exitstatus: null,
    warnings: null,
    attempts: 1,
    retryCount: 0,
    lastError: null,
    createdAt: at,
    updatedAt: at,
    completedAt: null,
    result: null,
    metadata: spec.metadata ?? {},
    previousUpids: [],
    retryRecipe: { kind: spec.recipeKind ?? spec.toolName, request: spec.request },
    retryUnavailableReason: null,
    recipeKind: spec.recipeKind ?? spec.toolName,
    expectedTask: spec.expectedTask ?? null,
    createdBy: 'test',
    leaseOwner: null,
    leaseExpiresAt: null,
  } satisfies JobEntity);
  await app.get(JobsStore).insert(job, { event: options.lastEvent ?? 'created', details: {} });
  return jobId;
}

/** Sends a job's request to PVE with the server's own token, as the server that died had done; returns the UPID. */
export async function sendAsTheDeadServer(app: INestApplication, spec: TrackSpec): Promise<string> {
  return app.get(ProxmoxGateway).client().post<string>(spec.request.path, spec.request.params);
}
