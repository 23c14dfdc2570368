import type { SimGuest } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import { formatUpid, type UpidParts } from './upid.js';

/**
 * PVE worker tasks: an operation returns its UPID at once and runs for `taskSeconds`; its effect (e.g. the VM is now
 * running) applies when it finishes. The log grows while it runs and ends with `TASK OK`, `TASK WARNINGS: N` or
 * `TASK ERROR: <msg>`, which is also the `exitstatus` (proxmox-api.md §5-6). DELETE on a running task interrupts it.
 *
 * Checks a PVE worker makes as it begins (config lock, "snapshot name already used") go in `prepare`: they run when
 * the task starts, before its lock is taken, and a refusal ends the task at once with that error.
 */
export interface TaskSpec {
  node: string;
  /** Worker type, e.g. `qmstart`, `vzdump`. */
  type: string;
  /** Usually the vmid; may be empty. */
  id: string;
  /** `user@realm` or `user@realm!token` as the UPID records it. */
  user: string;
  /**
   * Runs as the worker starts, before the lock is taken. Throw or return a message to end the task at once with
   * that error (its lock is not taken, `run` does not run).
   */
  prepare?: (task: SimTask) => string | void;
  /**
   * The work, run when the task's time is up. Throw (an Error or PveError) or return a message to fail the task
   * with that text; return nothing for `TASK OK` (or `TASK WARNINGS: N` after `warn`).
   */
  run?: (task: SimTask) => string | void;
  /** Cleanup when the task is interrupted (DELETE on the task) before `run`. */
  abort?: (task: SimTask) => void;
  /** Log lines written when the task starts. */
  log?: string[];
  /** A progress line for a percentage (e.g. `transferred 2.0 GiB of 8.0 GiB (25.00%)`); written in 4 steps. */
  progress?: (percent: number) => string;
  /** Overrides the simulator's taskSeconds for this task. */
  durationMs?: number;
  /** A config lock held while the task runs (PVE takes one for backup, snapshot, clone, migrate, …). */
  lock?: { guest: SimGuest; name: string };
}

export interface SimTask extends UpidParts {
  upid: string;
  status: 'running' | 'stopped';
  /** Only once stopped: `OK`, `WARNINGS: N` or the error text. */
  exitstatus?: string;
  endtime?: number;
  log: string[];
  /** Lines written with `warn` (a worker's STDERR); a task that ends well then reports `WARNINGS: N`. */
  warnings: number;
}

/** A warning in the task log, as a worker's `warn` writes it. */
export function warn(task: SimTask, message: string): void {
  task.log.push(message);
  task.warnings++;
}

/**
 * A test's script for the next task(s) matching `match`: PVE outcomes the simulated work never produces on its
 * own (a vzdump that ends `WARNINGS: 2`, a task that fails with a given text, a long log with percentages).
 */
export interface TaskScript {
  match: { type?: string; id?: string; node?: string };
  /** `WARNINGS: n` (the work is applied, the task ends with warnings) or an error text (the work is not applied). */
  exitstatus?: string;
  /** Extra log lines written when the task starts. */
  log?: string[];
  /** Write `progress N%` lines while the task runs. */
  progress?: boolean;
  durationMs?: number;
  /** How many tasks it applies to (default 1). */
  times?: number;
}

const PROGRESS_STEPS = [25, 50, 75, 100];
/** Finished tasks kept for the task list and status lookups. */
const MAX_FINISHED = 5_000;

export class TaskRunner {
  private readonly tasks = new Map<string, SimTask>();
  private readonly specs = new Map<string, TaskSpec>();
  private readonly timers = new Map<string, Array<NodeJS.Timeout | NodeJS.Immediate>>();
  private readonly waiters = new Map<string, Array<(task: SimTask) => void>>();
  private readonly pidCounters = new Map<string, number>();
  private finishedOrder: string[] = [];
  private scripts: Array<TaskScript & { remaining: number }> = [];
  private readonly scriptedExit = new Map<string, string>();

  constructor(
    private readonly cluster: ClusterState,
    private readonly taskSeconds: number,
  ) {}

  /** Scripts the outcome of the next matching task(s); see TaskScript. */
  script(script: TaskScript): void {
    this.scripts.push({ ...script, remaining: script.times ?? 1 });
  }

  start(original: TaskSpec): SimTask {
    const spec = this.applyScript(original);
    const now = Date.now();
    const starttime = Math.floor(now / 1000);
    const node = this.cluster.node(spec.node);
    const pid = (this.pidCounters.get(spec.node) ?? 0x2a000 + ((spec.node.length * 4099) % 0x10000)) + 1;
    this.pidCounters.set(spec.node, pid);
    // pstart is the process start in clock ticks (100/s) since the node booted
    const pstart = node ? Math.max(1, (starttime - node.bootTime) * 100) : 1;
    const parts: UpidParts = {
      node: spec.node,
      pid,
      pstart,
      starttime,
      type: spec.type,
      id: spec.id,
      user: spec.user,
    };
    const task: SimTask = {
      ...parts,
      upid: formatUpid(parts),
      status: 'running',
      log: [...(spec.log ?? [])],
      warnings: 0,
    };
    this.tasks.set(task.upid, task);
    let refused: string | undefined;
    try {
      refused = spec.prepare?.(task) ?? undefined;
    } catch (e) {
      refused = e instanceof Error ? e.message : String(e);
    }
    if (refused !== undefined) {
      // the worker died right away: no lock, no work, nothing to clean up
      this.specs.set(task.upid, { ...spec, lock: undefined, abort: undefined });
      this.timers.set(task.upid, [setImmediate(() => this.finish(task, refused))]);
      return task;
    }
    this.specs.set(task.upid, spec);
    if (spec.scriptedExit) this.scriptedExit.set(task.upid, spec.scriptedExit);
    if (spec.lock) spec.lock.guest.lock = spec.lock.name;
    this.schedule(task, spec);
    return task;
  }

  private applyScript(spec: ScriptedSpec): ScriptedSpec {
    const script = this.scripts.find(
      (s) =>
        (s.match.type === undefined || s.match.type === spec.type) &&
        (s.match.id === undefined || s.match.id === spec.id) &&
        (s.match.node === undefined || s.match.node === spec.node),
    );
    if (!script) return spec;
    if (--script.remaining <= 0) this.scripts = this.scripts.filter((s) => s !== script);
    return {
      ...spec,
      log: [...(spec.log ?? []), ...(script.log ?? [])],
      ...(script.progress ? { progress: (p: number) => `progress ${p}%` } : {}),
      ...(script.durationMs !== undefined ? { durationMs: script.durationMs } : {}),
      ...(script.exitstatus ? { scriptedExit: script.exitstatus } : {}),
    };
  }

  get(upid: string): SimTask | undefined {
    return this.tasks.get(upid);
  }

  /** Tasks of one node, newest first. */
  list(node: string): SimTask[] {
    return [...this.tasks.values()]
      .filter((t) => t.node === node)
      .sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  }

  /** Resolves when the task has stopped (at once if it already has). */
  whenDone(upid: string): Promise<SimTask> {
    const task = this.tasks.get(upid);
    if (!task) return Promise.reject(new Error(`no such task ${upid}`));
    if (task.status === 'stopped') return Promise.resolve(task);
    return new Promise((resolve) => {
      const list = this.waiters.get(upid) ?? [];
      list.push(resolve);
      this.waiters.set(upid, list);
    });
  }

  /** SIGTERM to the worker: the task ends with `received interrupt` and its work is not applied. */
  interrupt(upid: string): void {
    const task = this.tasks.get(upid);
    if (!task || task.status !== 'running') return;
    try {
      this.specs.get(upid)?.abort?.(task);
    } finally {
      this.finish(task, 'received interrupt');
    }
  }

  /** Cancels every timer (simulator stop); running tasks stay "running" forever. */
  dispose(): void {
    for (const handles of this.timers.values()) handles.forEach(clearHandle);
    this.timers.clear();
  }

  private schedule(task: SimTask, spec: TaskSpec): void {
    const duration = spec.durationMs ?? this.taskSeconds * 1000;
    const handles: Array<NodeJS.Timeout | NodeJS.Immediate> = [];
    if (duration <= 0) {
      handles.push(setImmediate(() => this.complete(task, spec)));
    } else {
      if (spec.progress) {
        for (const percent of PROGRESS_STEPS.slice(0, -1)) {
          const timer = setTimeout(() => task.log.push(spec.progress!(percent)), (duration * percent) / 100);
          handles.push(timer.unref());
        }
      }
      handles.push(setTimeout(() => this.complete(task, spec), duration).unref());
    }
    this.timers.set(task.upid, handles);
  }

  private complete(task: SimTask, spec: TaskSpec): void {
    if (task.status !== 'running') return;
    if (spec.progress) {
      const written = task.log.length - (spec.log?.length ?? 0);
      for (const percent of PROGRESS_STEPS.slice(written)) task.log.push(spec.progress(percent));
    }
    let error: string | undefined;
    const scripted = this.scriptedExit.get(task.upid);
    this.scriptedExit.delete(task.upid);
    if (scripted && !scripted.startsWith('WARNINGS:')) return this.finish(task, scripted);
    try {
      error = spec.run?.(task) ?? scripted;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    this.finish(task, error);
  }

  private finish(task: SimTask, error: string | undefined): void {
    const spec = this.specs.get(task.upid);
    if (spec?.lock && spec.lock.guest.lock === spec.lock.name) spec.lock.guest.lock = undefined;
    this.timers.get(task.upid)?.forEach(clearHandle);
    this.timers.delete(task.upid);
    this.specs.delete(task.upid);
    let text = error?.split('\n', 1)[0];
    if (!text && task.warnings > 0) text = `WARNINGS: ${task.warnings}`;
    task.log.push(text ? (text.startsWith('WARNINGS:') ? `TASK ${text}` : `TASK ERROR: ${text}`) : 'TASK OK');
    task.exitstatus = text ?? 'OK';
    task.status = 'stopped';
    task.endtime = Math.floor(Date.now() / 1000);
    this.finishedOrder.push(task.upid);
    if (this.finishedOrder.length > MAX_FINISHED) {
      const drop = this.finishedOrder.slice(0, this.finishedOrder.length - MAX_FINISHED);
      this.finishedOrder = this.finishedOrder.slice(drop.length);
      for (const upid of drop) this.tasks.delete(upid);
    }
    const waiters = this.waiters.get(task.upid) ?? [];
    this.waiters.delete(task.upid);
    for (const resolve of waiters) resolve(task);
  }
}

type ScriptedSpec = TaskSpec & { scriptedExit?: string };

function clearHandle(handle: NodeJS.Timeout | NodeJS.Immediate): void {
  if ('refresh' in handle) clearTimeout(handle);
  else clearImmediate(handle);
}
