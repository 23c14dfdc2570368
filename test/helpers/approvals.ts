import request from 'supertest';
import { simulatorTargetConfig, type SimulatorOptions } from '../../src/simulator/index.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from './test-app.js';

/**
 * The simulator and the server with the shipped approval policy (`high_risk_mode: enforce`) and an operator key:
 * every destroy tool needs an operator's approval, asked for only after its read-only checks pass.
 */
export function startApprovalHarness(simOptions: SimulatorOptions = {}): Promise<Harness> {
  return startHarness(simOptions, (sim) =>
    withOperator(testConfig([simulatorTargetConfig(sim)]), { highRiskMode: 'enforce' }),
  );
}

/** What an operator does with an APPROVAL_REQUIRED request id: approve it, and hand back the single-use token. */
export async function approveAsOperator(url: string, requestId: string): Promise<string> {
  const answer = await request(url)
    .post(`/approvals/${requestId}`)
    .set({ authorization: `Bearer ${OPERATOR_KEY}` })
    .expect(200);
  return (answer.body as { approval_token: string }).approval_token;
}
