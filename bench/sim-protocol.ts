import type { SimulatorOptions } from '../src/simulator/index.js';
import type { TaskScript } from '../src/simulator/tasks.js';

/** Messages between the bench and the simulator process (sim-process.ts). */
export type SimCommand =
  | { cmd: 'start'; options: SimulatorOptions }
  | { cmd: 'totalRequests' }
  | { cmd: 'requestsSince'; seq: number }
  | { cmd: 'script'; script: TaskScript }
  | { cmd: 'stoppableGuests'; count: number }
  | { cmd: 'violations' }
  | { cmd: 'stop' };

export type SimReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
