import { after, before } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AppConfig } from '../../src/config/app-config.js';
import type { PveSimulator, SimulatorOptions } from '../../src/simulator/index.js';
import { startHarness, type Harness } from './test-app.js';
import { simGuest, simRequests, toolCalls } from './tools.js';

/**
 * The harness of one describe block: started before its tests, with an MCP client that has listed the tools (from
 * then on the SDK checks every result against the tool's outputSchema), and closed after them (which fails on any
 * request real PVE would refuse). `h` and `mcp` are set once the block's `before` has run.
 */
export function simulatorSuite(simOptions: SimulatorOptions, configure?: (sim: PveSimulator) => AppConfig) {
  const suite = {
    h: undefined as unknown as Harness,
    mcp: undefined as unknown as Client,
  };
  before(async () => {
    suite.h = await startHarness(simOptions, configure);
    suite.mcp = await suite.h.mcp();
    await suite.mcp.listTools();
  });
  after(async () => {
    await suite.h.close();
  });
  return {
    get h() {
      return suite.h;
    },
    get mcp() {
      return suite.mcp;
    },
    ...toolCalls(() => suite.mcp),
    ...simRequests(() => suite.h.sim),
    /** A seeded guest of the simulated cluster (fails the test when it does not exist). */
    guest: (vmid: number) => simGuest(suite.h.sim, vmid),
  };
}
