/**
 * The payload contract (lib/compiled/payload) holds for what the compiler emits: every Lambda
 * Task of the seven compiled machines (statemachines/*.asl.json, drift-checked against the
 * compiler), its JSONPaths resolved against a sample state, parses under the schema the runtime
 * parses with; a corrupted payload is refused, naming the field. The typed constructors refuse
 * a wrong field at compile time (the `@ts-expect-error` lines fail `tsc` if they ever compile).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { actionInvocationSchema, actionPayload, CORE_PAYLOADS, corePayload, emittedPayloadSchema, type CorePayloadKey } from '../../../lib/compiled/payload';
import * as z from '../../../lib/yaml/zod';

const MACHINES = path.join(__dirname, '../../../statemachines');

interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: string; readonly Payload?: Record<string, unknown> };
  readonly Branches?: readonly { readonly States: Record<string, State> }[];
}

/** Every Lambda Task of a machine, Parallel branches included. */
function lambdaTasks(states: Record<string, State>): { name: string; fn: string; payload: Record<string, unknown> }[] {
  return Object.entries(states).flatMap(([name, s]) => [
    ...(s.Type === 'Task' && s.Resource?.startsWith('arn:aws:states:::lambda:invoke') ? [{ name, fn: /^\$\{(\w+)\}$/.exec(s.Parameters!.FunctionName!)![1]!, payload: s.Parameters!.Payload! }] : []),
    ...(s.Branches ?? []).flatMap((b) => lambdaTasks(b.States)),
  ]);
}

/** A reference path (`$`, `$.a.b`, `$$.Task.Token`), as Step Functions resolves it; an absent field fails, as it does there. */
function resolvePath(jsonPath: string, state: unknown, context: unknown): unknown {
  const [root, rest] = jsonPath.startsWith('$$') ? [context, jsonPath.slice(2)] : [state, jsonPath.slice(1)];
  let at: unknown = root;
  for (const key of rest.split('.').slice(1)) {
    if (at === null || typeof at !== 'object' || !(key in at)) throw new Error(`${jsonPath}: no field "${key}" in the sample state`);
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** A Payload template with its `<field>.$` JSONPaths resolved (one level, as the compiler writes them). */
function resolvePayload(template: Record<string, unknown>, state: unknown, context: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(template).map(([k, v]) => (k.endsWith('.$') ? [k.slice(0, -2), resolvePath(v as string, state, context)] : [k, v])));
}

const INCIDENT = { id: 'INC-20261207-001', playbook: 'traffic-surge', service: 'trading-api', severity: 'HIGH', alarmName: 'trading-api-latency', alarmReason: 'Threshold Crossed' };
/** The execution's input as the trigger starts it (lib/runtime/intake). */
const INPUT = { incident: INCIDENT, context: { alarm_state_at: '2026-12-07T12:00:00.000Z' } };
const CONTEXT = { Task: { Token: 'AQCEAAAAKgAAAAMAAAAA+token/=' }, State: { EnteredTime: '2026-12-07T12:05:00.123Z', Name: 'a state', RetryCount: 0 }, Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:traffic-surge:INC-20261207-001', Name: 'INC-20261207-001' } };

/** The state mid-run, after Start incident (its ResultSelector) and the investigation, with an error recorded for every state. */
function sampleState(states: Record<string, State>): Record<string, unknown> {
  const error = { Error: 'States.TaskFailed', Cause: '{"errorMessage":"boom"}' };
  const names = [...Object.keys(states), 'investigate', 'verify', 'recheck'];
  return {
    incident: INCIDENT,
    context: INPUT.context,
    run: { steps: { first_step: { summary: 'done', outputs: { replicas: 4 } } }, checks: {}, gates: {}, approvals: {}, errors: Object.fromEntries(names.map((n) => [n, error])), l4: { checks: 0 } },
    investigation: [
      { name: 'recent_deploys', kind: 'deployments', status: 'ok', data: { deployments: [] }, at: '2026-12-07T12:00:05.000Z' },
      { name: 'db_connections', status: 'timed_out', error: { Error: 'States.Timeout', Cause: '' } },
    ],
  };
}

const machines = readdirSync(MACHINES)
  .filter((f) => f.endsWith('.asl.json'))
  .map((f) => ({ name: f.replace('.asl.json', ''), asl: JSON.parse(readFileSync(path.join(MACHINES, f), 'utf8')) as { StartAt: string; States: Record<string, State> } }));

/** Every Lambda payload of every machine, resolved: core ones by `<fn>:<op>`, action ones by `Action_<name>`. */
const emitted = machines.flatMap((m) => {
  const state = sampleState(m.asl.States);
  return lambdaTasks(m.asl.States).map((t) => ({
    machine: m.name,
    state: t.name,
    fn: t.fn,
    key: t.fn.startsWith('Action_') ? t.fn : `${t.fn}:${String(t.payload.op)}`,
    // The first state reads the execution's input; the others the state mid-run.
    payload: resolvePayload(t.payload, t.name === m.asl.StartAt ? INPUT : state, CONTEXT),
  }));
});
const core = emitted.filter((e) => !e.fn.startsWith('Action_'));
const actions = emitted.filter((e) => e.fn.startsWith('Action_'));

/** The field paths a refusal names: `step`, `incident.id`, `mode`. */
function refusedFields(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    // zod/mini throws core's $ZodError (classic's ZodError is a subclass of it).
    if (err instanceof z.core.$ZodError) return err.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k].join('.')) : [i.path.join('.')]));
    throw err;
  }
  return [];
}

describe('payload contract (lib/compiled/payload)', () => {
  it('finds the seven playbooks\' machines and every core operation among their Tasks', () => {
    // assess
    expect(machines.map((m) => m.name).sort()).toEqual(['certificate-expiry-warning', 'kafka-consumer-lag', 'matching-engine-latency', 'pod-oom-killed', 'rds-connection-exhaustion', 'redis-memory-pressure', 'traffic-surge']);
    expect(new Set(core.map((e) => e.key))).toEqual(new Set(Object.keys(CORE_PAYLOADS)));
    expect(actions.length).toBeGreaterThan(20);
  });

  describe('Method: emittedPayloadSchema', () => {
    it.each(core.map((e) => [e.machine, e.state, e]))('%s › %s: its payload parses, with no field the contract does not declare', (_machine, _state, e) => {
      // act
      const key = e.key as CorePayloadKey;
      // assess: the runtime's schema, and the strict one (runtime fields + informational ones)
      expect(() => CORE_PAYLOADS[key].parse(e.payload)).not.toThrow();
      expect(refusedFields(() => emittedPayloadSchema(key).parse(e.payload))).toEqual([]);
    });

    it.each(actions.map((e) => [e.machine, e.state, e]))('%s › %s: its action payload parses under actionInvocationSchema', (_machine, _state, e) => {
      expect(refusedFields(() => actionInvocationSchema.parse(e.payload))).toEqual([]);
    });

    it('refuses a corrupted core payload, naming the field', () => {
      // prepare: a gate and an approval request as the compiler emits them
      const gate = core.find((e) => e.key === 'Fn_breaker:gate')!.payload;
      const request = core.find((e) => e.key === 'Fn_approval_request:request')!.payload;
      // act + assess
      expect(refusedFields(() => CORE_PAYLOADS['Fn_breaker:gate'].parse({ ...gate, step: 42 }))).toEqual(['step']);
      expect(refusedFields(() => CORE_PAYLOADS['Fn_breaker:gate'].parse({ ...gate, incident: { ...INCIDENT, id: undefined } }))).toEqual(['incident.id']);
      expect(refusedFields(() => CORE_PAYLOADS['Fn_approval_request:request'].parse({ ...request, level: 5 }))).toEqual(['level']);
      expect(refusedFields(() => CORE_PAYLOADS['Fn_approval_request:request'].parse({ ...request, taskToken: undefined }))).toEqual(['taskToken']);
      expect(refusedFields(() => CORE_PAYLOADS['Fn_approval_request:request'].parse({ ...request, window_opened_at: 'when the state was entered' }))).toEqual(['window_opened_at']);
      // a field nobody declared: the runtime strips it, the emitted-payload schema refuses it
      expect(refusedFields(() => emittedPayloadSchema('Fn_breaker:gate').parse({ ...gate, mode: 'auto' }))).toEqual(['mode']);
    });

    it('refuses a corrupted action payload, naming the field (the runtime schema is strict)', () => {
      // prepare
      const action = actions[0]!.payload;
      // act + assess
      expect(refusedFields(() => actionInvocationSchema.parse({ ...action, risk: 'LOW' }))).toEqual(['risk']);
      expect(refusedFields(() => actionInvocationSchema.parse({ ...action, incidentId: 'trading-api' }))).toEqual(['incidentId']);
    });
  });

  describe('Method: corePayload / actionPayload', () => {
    it('returns the payload as written, and a wrong field does not compile', () => {
      // prepare
      const refs = { 'incident.$': '$.incident', 'context.$': '$.context', 'steps.$': '$.run.steps' } as const;
      // act
      const report = corePayload('Fn_report:report', { op: 'report', playbook: 'traffic-surge', ...refs });
      // @ts-expect-error a field the runtime does not declare (`playbok`)
      corePayload('Fn_report:report', { op: 'report', playbook: 'traffic-surge', playbok: 'x', ...refs });
      // @ts-expect-error a required field missing (`playbook`)
      corePayload('Fn_report:report', { op: 'report', ...refs });
      // @ts-expect-error a value of the wrong type (`level` is a number)
      corePayload('Fn_escalate:incident', { op: 'incident', playbook: 'traffic-surge', level: '3', ...refs });
      // @ts-expect-error a field given twice, as a value and as a JSONPath
      corePayload('Fn_report:report', { op: 'report', playbook: 'traffic-surge', 'playbook.$': '$.playbook', ...refs });
      // @ts-expect-error a JSONPath that is not one (`incident.$` must start with `$`)
      corePayload('Fn_report:report', { op: 'report', playbook: 'traffic-surge', 'incident.$': 'incident' });
      // @ts-expect-error the wrong op for the key
      corePayload('Fn_breaker:gate', { op: 'failure', step: 's', action: 'a', ...refs });
      // @ts-expect-error an action payload cannot carry what the compiled step decides (`mode`)
      actionPayload({ 'incidentId.$': '$.incident.id', step: 's', params: {}, mode: 'auto', 'execution.$': '$$.Execution.Id' });
      // assess
      expect(report).toEqual({ op: 'report', playbook: 'traffic-surge', ...refs });
    });
  });
});
