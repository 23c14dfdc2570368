import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/app.setup.js';
import { JobsPoller } from '../src/jobs/jobs.poller.js';
import { JobsService } from '../src/jobs/jobs.service.js';
import type { TrackSpec } from '../src/jobs/job.types.js';
import { pvePath } from '../src/proxmox/pve-path.js';
import { inProcessConfig } from './config.js';
import { stopSim, type BenchContext } from './context.js';
import type { BenchSizes } from './options.js';
import type { Report } from './report.js';
import { SimHandle, type SimGuestRef } from './sim-handle.js';
import { median, p99 } from './stats.js';

/** Long enough that no task ends during the rounds (the jobs stay `running`). */
const TASK_MS = 600_000;
const BATCH = 50;

export const pollerLabels = (s: BenchSizes['poller']) => {
  const at = `${s.jobs.toLocaleString('en-US')} running jobs on ${s.nodes} nodes`;
  return {
    requests: `poller, ${at}: upstream requests per round`,
    cpu: `poller, ${at}: CPU per round`,
    wall: `poller, ${at}: round duration`,
    first: `poller, ${at}: first round (leases every job): CPU`,
  };
};

export function planPoller(report: Report, sizes: BenchSizes['poller']): void {
  const l = pollerLabels(sizes);
  report.plan({
    section: 4,
    label: l.requests,
    unit: '',
    target: { text: `≤ ${sizes.nodes} (one per node)`, met: (f) => (f.p99 ?? NaN) <= sizes.nodes },
  });
  report.plan({ section: 4, label: l.cpu, unit: 'ms' });
  report.plan({ section: 4, label: l.wall, unit: 'ms' });
  report.plan({ section: 4, label: l.first, unit: 'ms' });
}

/**
 * (4) The job poller's cost per round with many running jobs: jobs are created through JobsService.track (stop
 * requests for VMs and containers on every node, whose tasks the simulator keeps running for 10 minutes), then JobsPoller.pollOnce() rounds are timed in
 * this process (its timer is off). CPU is process.cpuUsage() of this process, which holds only the application
 * (the simulator has its own process); upstream requests are counted by the simulator. The job store is a
 * SQLite file, as in a default installation.
 */
export async function measurePoller(ctx: BenchContext): Promise<void> {
  const sizes = ctx.sizes.poller;
  const l = pollerLabels(sizes);
  ctx.progress(`(4) poller: ${sizes.jobs} jobs on ${sizes.nodes} nodes`);
  const dir = mkdtempSync(join(tmpdir(), 'pmp-bench-'));
  const sim = await SimHandle.start({ nodes: sizes.nodes, guests: 2 * sizes.jobs + 50 }, ctx.schemaPath);
  let app: INestApplication | undefined;
  try {
    const config = inProcessConfig(sim, {
      jobs: { sqlitePath: join(dir, 'jobs.sqlite3'), pollIntervalMs: 3_600_000 },
    });
    app = (await createApp(config)).app;
    const jobs = app.get(JobsService);
    const poller = app.get(JobsPoller);
    const guests = await sim.stoppableGuests(sizes.jobs);
    if (guests.length < sizes.jobs)
      throw new Error(`the simulator has only ${guests.length} stoppable guests`);
    for (const type of ['qmstop', 'vzstop']) {
      await sim.scriptTasks({ match: { type }, durationMs: TASK_MS, times: sizes.jobs });
    }
    const nodesWithJobs = new Set(guests.map((g) => g.node)).size;
    const createStart = performance.now();
    for (let i = 0; i < guests.length; i += BATCH) {
      await Promise.all(guests.slice(i, i + BATCH).map((g) => jobs.track(stopSpec(g))));
    }
    const createSeconds = (performance.now() - createStart) / 1000;
    ctx.progress(`  ${sizes.jobs} jobs created in ${createSeconds.toFixed(1)} s`);

    const requests: number[] = [];
    const cpu: number[] = [];
    const wall: number[] = [];
    let firstCpu = NaN;
    let otherPaths = new Set<string>();
    for (let round = 0; round <= sizes.rounds; round++) {
      const seq = await sim.totalRequests();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await poller.pollOnce();
      const elapsed = performance.now() - t0;
      const used = process.cpuUsage(cpu0);
      const sent = await sim.requestsSince(seq);
      const cpuMs = (used.user + used.system) / 1000;
      for (const r of sent)
        if (!/^\/nodes\/[^/]+\/tasks$/.test(r.path)) otherPaths.add(`${r.method} ${r.path}`);
      if (round === 0) {
        firstCpu = cpuMs; // the first round takes the leases: one write per job
        if (sent.length > sizes.nodes)
          otherPaths = new Set([...otherPaths, `first round: ${sent.length} requests`]);
        continue;
      }
      requests.push(sent.length);
      cpu.push(cpuMs);
      wall.push(elapsed);
    }
    const stillRunning = (await jobs.list({ status: 'running', limit: 1, offset: 0 })).total;
    const others = otherPaths.size ? `; other requests: ${[...otherPaths].slice(0, 3).join(', ')}` : '';
    ctx.report.set(l.requests, {
      median: median(requests),
      p99: p99(requests),
      detail: `${sizes.rounds} rounds; jobs on ${nodesWithJobs} nodes, ${stillRunning} still running${others}`,
    });
    ctx.report.set(l.cpu, {
      median: median(cpu),
      p99: p99(cpu),
      detail: `${((median(cpu) / sizes.jobs) * 1000).toFixed(0)} µs per job; jobs created at ${Math.round(sizes.jobs / createSeconds)}/s`,
    });
    ctx.report.set(l.wall, { median: median(wall), p99: p99(wall) });
    ctx.report.set(l.first, { median: firstCpu });
  } finally {
    await app?.close();
    await stopSim(ctx, sim);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A stop_vm or stop_container job, as those tools would track it. */
function stopSpec(g: SimGuestRef): TrackSpec {
  const vm = g.type === 'qemu';
  return {
    toolName: vm ? 'stop_vm' : 'stop_container',
    summary: `stop ${vm ? 'VM' : 'container'} ${g.vmid} on ${g.node}`,
    node: g.node,
    request: {
      method: 'POST',
      path: vm
        ? pvePath`/nodes/${g.node}/qemu/${g.vmid}/status/stop`
        : pvePath`/nodes/${g.node}/lxc/${g.vmid}/status/stop`,
    },
    metadata: { vmid: g.vmid },
    recipeKind: vm ? 'vm.stop' : 'container.stop',
    expectedTask: { type: vm ? 'qmstop' : 'vzstop', id: String(g.vmid) },
  };
}
