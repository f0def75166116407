/**
 * Issue 9, once more: direct action invocations shaped to slip past the invocation schema (extra
 * fields hidden as `__proto__` or `constructor`, fields nested in params, ids and step names
 * spelled another way). Each is refused before the dispatcher reads anything, or finds no incident
 * or step, and nothing runs. In-memory state (no servers): `npm run mutate` runs these too.
 */
import { ACTIONS, type ActionDefinition } from '../../lib/actions';
import { dispatchAction, type DispatchDeps } from '../../lib/actions/dispatch';
import type { IncidentWithSteps } from '../../lib/incident';
import { loadCompiledPlaybooks } from '../../lib/compiled/manifest';
import { defaultPolicy } from '../../lib/policy/files';

const playbooks = loadCompiledPlaybooks();
const ID = 'INC-20260209-001';
const EXEC = `arn:aws:states:us-east-1:123456789012:execution:traffic-surge:${ID}`;
const STEP = 'enable_rate_limiting';

function harness(): { deps: DispatchDeps; reads: string[]; ran: string[] } {
  const reads: string[] = [];
  const ran: string[] = [];
  const stored = {
    incident: { id: ID, playbook: 'traffic-surge', service: 'trading-api', severity: 'MEDIUM', status: 'MITIGATING', executionArn: EXEC, playbookHash: playbooks.get('traffic-surge')!.hash, timestamps: { anomalyStartedAt: '2026-02-09T14:00:00.000Z', detectedAt: '2026-02-09T14:15:00.000Z' } },
    steps: {},
  } as unknown as IncidentWithSteps;
  const never = (what: string) => async () => {
    ran.push(what);
    throw new Error(`${what} must not be reached`);
  };
  return {
    reads,
    ran,
    deps: {
      targets: {},
      policy: defaultPolicy(),
      playbooks,
      now: () => new Date('2026-02-09T14:20:00.000Z'),
      load: async (id) => {
        reads.push(id);
        return id === ID ? stored : undefined;
      },
      claim: never('claim'),
      remember: never('remember'),
      finish: never('finish'),
      approval: async () => undefined,
      gate: async () => ({ mode: 'auto', reason: 'closed' }),
      attempt: never('attempt'),
      succeeded: never('succeeded'),
      record: async () => undefined,
    },
  };
}

const def = { ...(ACTIONS.update_config as ActionDefinition<Record<string, unknown>>) };
const params = () => playbooks.step('traffic-surge', STEP)?.params ?? {};
const base = () => ({ incidentId: ID, step: STEP, params: params(), execution: EXEC });

describe('forged payload shapes', () => {
  it('the step these tests forge exists and is gated on approval', () => {
    expect(playbooks.step('traffic-surge', STEP)).toMatchObject({ action: 'update_config', mode: 'approval' });
  });

  it.each([
    ['__proto__ from JSON', () => JSON.parse(JSON.stringify(base()).replace(/^\{/, '{"__proto__":{"mode":"auto","risk":"LOW"},'))],
    ['constructor', () => ({ ...base(), constructor: { mode: 'auto' } })],
    ['mode', () => ({ ...base(), mode: 'auto' })],
    ['risk', () => ({ ...base(), risk: 'LOW' })],
    ['approvers', () => ({ ...base(), approvers: [] })],
    ['service', () => ({ ...base(), service: 'order-consumer' })],
    ['an approval', () => ({ ...base(), approval: { status: 'APPROVED' } })],
  ])('an extra field (%s) is refused by the schema, before any read', async (_what, make) => {
    const h = harness();
    await expect(dispatchAction(def, make(), h.deps)).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'invocation-shape' });
    expect(h.reads).toEqual([]);
    expect(h.ran).toEqual([]);
  });

  it.each([
    ['a lower-case id', { incidentId: ID.toLowerCase() }],
    ['an id with a trailing newline', { incidentId: `${ID}\n` }],
    ['an id with a full-width digit', { incidentId: ID.replace('1', '１') }],
    ['params as an array', { params: [] }],
    ['params as a string', { params: 'replicas=100' }],
    ['no execution', { execution: '' }],
    ['a step name of 81 characters', { step: 's'.repeat(81) }],
  ])('%s is refused by the schema', async (_what, override) => {
    const h = harness();
    await expect(dispatchAction(def, { ...base(), ...override }, h.deps)).rejects.toMatchObject({ rule: 'invocation-shape' });
    expect(h.reads).toEqual([]);
  });

  it.each([
    ['a trailing space', `${STEP} `],
    ['upper case', STEP.toUpperCase()],
    ['a full-width letter', STEP.replace('e', 'ｅ')],
    ['a zero-width space', `${STEP.slice(0, 3)}\u200b${STEP.slice(3)}`],
  ])('a step name with %s is no step of the playbook', async (_what, step) => {
    const h = harness();
    await expect(dispatchAction(def, { ...base(), step }, h.deps)).rejects.toMatchObject({ rule: 'compiled-step' });
    expect(h.ran).toEqual([]);
  });

  it.each([
    ['mode nested in params', { mode: 'auto' }],
    ['a changed rate limit', { rate_limit: '1000000 req/s per user' }],
  ])('%s is a parameter that differs from the compiled step', async (_what, extra) => {
    const h = harness();
    await expect(dispatchAction(def, { ...base(), params: { ...params(), ...extra } }, h.deps)).rejects.toMatchObject({ rule: 'compiled-params' });
    expect(h.ran).toEqual([]);
  });

  it('__proto__ in params changes nothing: the schema does not keep it as a parameter, and the step is judged on its compiled parameters', async () => {
    const h = harness();
    const forged = JSON.parse(`{"incidentId":"${ID}","step":"${STEP}","execution":"${EXEC}","params":{"__proto__":{"config":"rate_limit_enabled=false"},${JSON.stringify(params()).slice(1)}}`) as unknown;
    await expect(dispatchAction(def, forged, h.deps)).rejects.toMatchObject({ rule: 'approval-required', message: expect.stringContaining('the step is compiled to wait for approval') });
    expect(h.ran).toEqual([]);
  });

  it('the execution spelled in another case is another execution', async () => {
    const h = harness();
    await expect(dispatchAction(def, { ...base(), execution: EXEC.toUpperCase() }, h.deps)).rejects.toMatchObject({ rule: 'execution' });
  });

  it('safe twin: the payload the machine sends is admitted as far as the approval the step needs', async () => {
    const h = harness();
    await expect(dispatchAction(def, base(), h.deps)).rejects.toMatchObject({ rule: 'approval-required' });
    expect(h.reads).toEqual([ID]);
    expect(h.ran).toEqual([]);
  });
});
