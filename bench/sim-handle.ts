import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { simulatorTargetEnv } from '../src/simulator/simulator.js';
import type { TaskScript } from '../src/simulator/tasks.js';
import type { SimCommand, SimReply } from './sim-protocol.js';

export interface SimSize {
  nodes: number;
  guests: number;
}

export interface SimGuestRef {
  vmid: number;
  node: string;
  type: 'qemu' | 'lxc';
}

export interface RecordedCall {
  method: string;
  path: string;
  status: number;
}

interface Started {
  host: string;
  port: number;
  url: string;
  fingerprint: string;
  token: { user: string; tokenName: string; secret: string };
  schemaChecked: boolean;
}

/** The simulator running in a child process (sim-process.ts), with the few controls the bench needs. */
export class SimHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly info: Started,
    readonly size: SimSize,
  ) {}

  static async start(size: SimSize, schemaPath: string | null, taskSeconds = 2): Promise<SimHandle> {
    const child = fork(fileURLToPath(new URL('./sim-process.js', import.meta.url)), [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const handle = new SimHandle(child, undefined as unknown as Started, size);
    child.on('message', (reply: SimReply) => handle.settle(reply));
    child.once('exit', (code) => {
      for (const p of handle.pending.values()) p.reject(new Error(`simulator process exited (${code})`));
      handle.pending.clear();
    });
    const info = (await handle.call({
      cmd: 'start',
      options: { ...size, schemaPath, taskSeconds },
    })) as Started;
    Object.assign(handle, { info });
    return handle;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Every request the simulator has received since it started. */
  async totalRequests(): Promise<number> {
    return (await this.call({ cmd: 'totalRequests' })) as number;
  }

  async requestsSince(seq: number): Promise<RecordedCall[]> {
    return (await this.call({ cmd: 'requestsSince', seq })) as RecordedCall[];
  }

  async scriptTasks(script: TaskScript): Promise<void> {
    await this.call({ cmd: 'script', script });
  }

  /** Guests a stop request can run on: half VMs, half running containers (so every node has some). */
  async stoppableGuests(count: number): Promise<SimGuestRef[]> {
    return (await this.call({ cmd: 'stoppableGuests', count })) as SimGuestRef[];
  }

  /** Requests real PVE would have refused (only counted when the schema is loaded). */
  async violations(): Promise<{ count: number; first: string[] }> {
    return (await this.call({ cmd: 'violations' })) as { count: number; first: string[] };
  }

  /** The PROXMOX_* variables that point a server at this simulator (its certificate pinned). */
  targetEnv(): Record<string, string> {
    return simulatorTargetEnv(this.info);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call({ cmd: 'stop' }).catch(() => undefined);
    this.child.disconnect();
    await exited;
  }

  private call(command: SimCommand): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, command });
    });
  }

  private settle(reply: SimReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new Error(`simulator: ${reply.error}`));
  }
}
