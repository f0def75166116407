/**
 * A service breaker stops that service's self-healing (seed §3.2). A step may act on a service
 * other than its incident's: traffic-surge scales market-data-ws from a trading-api incident
 * (automatically), rds-connection-exhaustion restarts the leaking service found in the database's
 * connections. On main the guard gated only the incident's service, so with market-data-ws's
 * breaker open (its owner stopped it by hand) a trading-api surge still patched its HPA, and the
 * attempt was charged to trading-api. The handlers run as deployed, on dynalite.
 */
import { requestApproval, decideApproval } from '../../lib/approval/store';
import { resetBreaker, tripServiceBreaker } from '../../lib/breaker';
import { claimStep, finishStep, getTimeline, readIncidentWithSteps } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { loadCompiledPlaybooks } from '../../lib/compiled/manifest';
import { approvalBinding } from '../../lib/policy';
import { defaultPolicy } from '../../lib/policy/files';
import { closeActionTargets } from '../../lib/runtime/action-lambda';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from '../helpers/lambda-env';
import { startedIncident, type StartedIncident } from '../helpers/started-incident';

const tables = LAMBDA_TEST_TABLES;
let dynamo: LocalDynamo;
const savedEnv = { ...process.env };
const playbooks = loadCompiledPlaybooks();

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
  Object.assign(process.env, lambdaEnvironment(dynamo.endpoint));
});

afterAll(async () => {
  process.env = savedEnv;
  await closeActionTargets();
  await dynamo.stop();
});

const handlerOf = async (action: string) => ((await import(`../../lambdas/actions/${action}`)) as { handler: (e: unknown) => Promise<unknown> }).handler;
const stepRecord = async (inc: StartedIncident, step: string) => (await readIncidentWithSteps(dynamo.doc, tables, inc.incident.id))?.steps[step];

/** Opens `service`'s breaker by hand for the duration of `body`. */
async function withOpenBreaker(service: string, body: () => Promise<void>): Promise<void> {
  await tripServiceBreaker(dynamo.doc, tables, {}, new Date(), { service, reason: 'owner stopped self-healing during a migration', cause: 'manual_trip' });
  try {
    await body();
  } finally {
    await resetBreaker(dynamo.doc, tables, {}, new Date(), { service, actor: 'test' });
  }
}

describe('the breaker of the service a step acts on', () => {
  it("a trading-api surge does not scale market-data-ws while market-data-ws's breaker is open (auto step)", async () => {
    const inc = await startedIncident(dynamo.doc, tables, { playbook: 'traffic-surge', service: 'trading-api', playbooks });
    await withOpenBreaker('market-data-ws', async () => {
      // act: the auto step the machine runs
      const run = (await handlerOf('patch_hpa_max'))(inc.actionPayload('scale_up_market_data'));
      // assess: refused by the breaker of the step's target, named; the step never claimed
      await expect(run).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'breaker-gate', message: expect.stringContaining('service breaker for market-data-ws open') });
      expect(await stepRecord(inc, 'scale_up_market_data')).toBeUndefined();
      const refused = (await getTimeline(dynamo.doc, tables, inc.incident.id)).filter((e) => e.type === 'action_refused');
      expect(refused.map((e) => e.step)).toEqual(['scale_up_market_data']);
    });
  });

  it('an approved restart of the leaking service is refused while that service is stopped, whatever the incident service', async () => {
    // prepare: the database step found order-service leaking; both approvals given
    const inc = await startedIncident(dynamo.doc, tables, { playbook: 'rds-connection-exhaustion', service: 'trading-api', playbooks });
    const kill = await claimStep(dynamo.doc, tables, { incidentId: inc.incident.id, step: 'kill_idle_connections', action: 'rds_query', executionArn: inc.executionArn, now: new Date() });
    await finishStep(dynamo.doc, tables, inc.incident.id, 'kill_idle_connections', kill.record.claimId, { state: 'done', summary: 'killed 3', outputs: { leaking_service: 'order-service', identified_leaking_service: 'order-service' } }, new Date());
    const step = playbooks.step('rds-connection-exhaustion', 'restart_leaking_pods')!;
    const params = { deployment: 'order-service', strategy: 'one_at_a_time' };
    const rec = await requestApproval(dynamo.doc, tables, { incidentId: inc.incident.id, step: step.name, action: step.action, level: 2, approvers: step.approvers, minApprovals: step.minApprovals, taskToken: 't', timeoutSeconds: 600, totalSeconds: 3300, binding: approvalBinding(step.action, params, [{ kind: 'service', name: 'order-service' }], defaultPolicy()), params }, new Date());
    for (const role of step.approvers) await decideApproval(dynamo.doc, tables, rec.approvalId, { role, person: `person of ${role}`, decision: 'approve' }, new Date());
    await withOpenBreaker('order-service', async () => {
      // act
      const run = (await handlerOf('rolling_restart'))(inc.actionPayload('restart_leaking_pods'));
      // assess
      await expect(run).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'breaker-gate', message: expect.stringContaining('order-service') });
      expect(await stepRecord(inc, 'restart_leaking_pods')).toBeUndefined();
    });
  });

  it("safe twin: with the target's breaker closed the guard lets the step through to its action", async () => {
    const inc = await startedIncident(dynamo.doc, tables, { playbook: 'traffic-surge', service: 'trading-api', playbooks });
    await withOpenBreaker('order-service', async () => {
      // An unrelated service's open breaker does not stop it: the step gets past the guard and claims (no cluster here, so it then fails).
      await expect((await handlerOf('patch_hpa_max'))(inc.actionPayload('scale_up_market_data'))).rejects.not.toMatchObject({ rule: 'breaker-gate' });
      expect(await stepRecord(inc, 'scale_up_market_data')).toBeDefined();
    });
  });
});
