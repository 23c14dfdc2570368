import { currentCall } from '../context/call-context.js';
import { isDomainError } from '../errors/domain-error.js';
import { PlanStop, type PlanRecorder } from '../context/plan-recorder.js';

/** The plan of the call in flight, if it is a dry run. */
export const currentPlan = (): PlanRecorder | undefined => currentCall().plan;

/**
 * A change of this server's own state (a job row, an approval): in plan mode it is recorded and the call ends
 * here as a successful plan; otherwise it passes at once.
 */
export function planned(method: string, path: string, params?: Record<string, unknown>): void {
  const plan = currentPlan();
  if (!plan) return;
  plan.change(method, path, params);
  throw new PlanStop(plan.requests[plan.requests.length - 1]);
}

/** A named read-only check, recorded only in plan mode. */
export function planCheck(name: string, ok: boolean, detail: string): void {
  currentPlan()?.check(name, ok, detail);
}

/** Runs a PVE read; in plan mode records it as a check with its outcome (the path and ok / the error code). */
export async function plannedRead<T>(path: string, read: () => Promise<T>): Promise<T> {
  const plan = currentPlan();
  if (!plan) return read();
  try {
    const value = await read();
    plan.check('read', true, `GET ${stripQuery(path)}`);
    return value;
  } catch (error) {
    plan.check('read', false, `GET ${stripQuery(path)}: ${isDomainError(error) ? error.code : 'failed'}`);
    throw error;
  }
}

const stripQuery = (path: string) => path.split('?')[0];

/**
 * In plan mode, the answer to a PVE mutation that is recorded instead of sent: a placeholder UPID (most
 * mutations start a task; callers that ignore the answer are unaffected). Undefined outside plan mode.
 */
export function plannedMutation(
  method: string,
  path: string,
  params: Record<string, unknown> | undefined,
): { answer: string } | undefined {
  const plan = currentPlan();
  if (!plan) return undefined;
  plan.change(method, path, params);
  return { answer: plan.placeholderUpid(path) };
}

/** A read of a planned task (its placeholder UPID is in the path): it ended at once, successfully. */
export function plannedTaskRead(path: string): { answer: unknown } | undefined {
  if (!currentPlan() || !/planned(@|%40)pve/.test(path)) return undefined;
  if (path.endsWith('/log')) return { answer: [] };
  return { answer: { status: 'stopped', exitstatus: 'OK', type: 'dryrun', id: '', node: 'planned' } };
}

/** In plan mode, records an SSH command (its text redacted like a log line) and answers true: do not run it. */
export function plannedCommand(node: string, purpose: string, command: string): boolean {
  const plan = currentPlan();
  if (!plan) return false;
  plan.change('SSH', `/nodes/${node}/ssh`, { purpose, command });
  return true;
}
