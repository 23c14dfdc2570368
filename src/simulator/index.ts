/** The Proxmox VE API simulator (see simulator.ts). */
export {
  PveSimulator,
  simulatorTargetConfig,
  simulatorTargetEnv,
  simulatorSshConfig,
  NO_SCHEMA_WARNING,
  type SimulatorOptions,
} from './simulator.js';
export { type SimulatorSshInfo } from './ssh-endpoint.js';
export { runSimulatorCli } from './cli.js';
export { ALL_PRIVILEGES, TokenAccess, type TokenAcl } from './access.js';
export { FaultController, FAULT_MODES, type FaultMode, type FaultSpec } from './faults.js';
export type { ClusterLogEntry, FirewallLogEntry, SimLogs, SyslogEntry } from './logs.js';
export type { RecordedRequest, RequestFilter } from './request-log.js';
export type { ClusterState } from './cluster-state.js';
export type {
  GuestType,
  GuestProcess,
  SimGuest,
  SimNode,
  SimSnapshot,
  SimStorage,
  SimVolume,
  StorageType,
} from './cluster-model.js';
export type { SimTask, TaskRunner, TaskSpec } from './tasks.js';
export { PveApiSchema, checkValue, type CheckResult } from './schema-validator.js';
export { PveError } from './pve-error.js';
export { Router, Reply, RouteContext, type RouteHandler } from './router.js';
