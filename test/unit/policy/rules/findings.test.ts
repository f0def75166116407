/**
 * Every rule's finding, whole: rule, effect, field, category, message and fix — what the compiler
 * prints at file:line:col and the guard's PolicyViolationError carries. The per-rule files test
 * what is refused; this one pins how each refusal is said (`npm run mutate` checks both).
 */
import { findAction } from '../../../../lib/actions';
import { deriveBounds } from '../../../../lib/playbook';
import { runRules, type Finding, type Phase, type StepFacts } from '../../../../lib/policy';
import { defaultPolicy } from '../../../../lib/policy/files';

function found(rule: string, action: string, params: Record<string, unknown>, extra: Partial<StepFacts> = {}, phase: Phase = 'runtime'): Finding[] {
  const def = findAction(action)!;
  const step = { name: 's', action: def, mode: 'auto', risk: def.defaultRisk, approvers: [], params, ...(phase === 'compile' ? { bounds: deriveBounds({ action: def, params }) } : {}), ...extra } as StepFacts;
  return runRules(step, defaultPolicy(), phase).filter((f) => f.rule === rule);
}

const DEGRADABLE_FIX = 'switch only market_history_api, leaderboard_api, notification_service (degradable_features in playbooks/policy.yaml)';

describe('findings, word for word', () => {
  it.each<[string, string, Record<string, unknown>, Partial<StepFacts>, Phase, Omit<Finding, 'rule'>]>([
    ['approvers-named', 'rolling_restart', { deployment: 'trading-api' }, { mode: 'approval', risk: 'HIGH', written: {} } as Partial<StepFacts>, 'compile', { effect: 'refuse', field: ['approvers'], message: 'HIGH risk and needs approval: name the approvers', fix: 'add e.g. approvers: ["oncall_sre", "team_lead"]' }],
    ['degradable-flags-only', 'feature_flags', { disable: ['leaderboard_api', 'spot_trading'] }, {}, 'runtime', { effect: 'refuse', field: ['params', 'disable', 1], category: 'global_operations', message: 'feature flag "spot_trading" is not a degradable feature (global_operations: switching it changes what the exchange offers)', fix: DEGRADABLE_FIX }],
    ['degradable-flags-only', 'feature_flags', { enable: ['{{flag}}'] }, {}, 'runtime', { effect: 'refuse', field: ['params', 'enable', 0], category: 'global_operations', message: 'feature flag "{{flag}}" is a {{template}}: which feature it switches is not known before it runs', fix: 'name the flag' }],
    ['endpoint-allow-list', 'api_call', { endpoint: 'matching-engine:8080/admin/halt2' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'endpoint'], message: 'endpoint "matching-engine:8080/admin/halt2" (matching-engine:8080/admin/halt2) is not on the allow-list', fix: 'add "matching-engine:8080/admin/halt2" to api_endpoints in playbooks/policy.yaml if the agent may call it' }],
    ['endpoint-allow-list', 'api_call', { endpoint: '{{svc}}/admin/gc' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'endpoint'], message: 'endpoint "{{svc}}/admin/gc" was not resolved', fix: 'name the endpoint' }],
    ['endpoint-allow-list', 'api_call', { endpoint: 'http://10.0.0.1/admin/gc' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'endpoint'], message: 'endpoint "http://10.0.0.1/admin/gc": host 10.0.0.1 is an IP address: name the service (its name, or <service>.<namespace>.svc.cluster.local)', fix: 'write the endpoint as <service>[.<namespace>[.svc.cluster.local]]:<port>/<path>, naming a service of playbooks/services.yaml' }],
    ['expression-bounds', 'patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 10' }, {}, 'compile', { effect: 'refuse', field: ['params', 'new_max'], message: '"current_max * 10" scales current_max by 10, outside the policy\'s 1..3 (min_scale_factor, max_scale_factor)', fix: 'use a factor between 1 and 3' }],
    ['expression-bounds', 'patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * current_max' }, {}, 'compile', { effect: 'refuse', field: ['params', 'new_max'], message: '"current_max * current_max" cannot be bounded: current_max × current_max is not a scaling', fix: 'write it as current_max * <factor> (factor 1..3)' }],
    ['expression-bounds', 'patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max + current_max * 4' }, {}, 'compile', { effect: 'refuse', field: ['params', 'new_max'], message: '"current_max + current_max * 4" scales current_max by 5, outside the policy\'s 1..3 (min_scale_factor, max_scale_factor)', fix: 'use a factor between 1 and 3' }],
    ['parameter-caps', 'rds_query', { query: 'SELECT 1', max_kills: 500 }, {}, 'runtime', { effect: 'refuse', field: ['params', 'max_kills'], message: 'max_kills 500 is over the policy cap of 50', fix: 'stay within the cap (playbooks/policy.yaml caps)' }],
    ['parameter-caps', 'kubectl_scale', { deployment: 'trading-api', replicas: 0 }, {}, 'runtime', { effect: 'refuse', field: ['params', 'replicas'], message: 'replicas 0: scaling to zero stops the service; the agent never does that', fix: 'stay within the cap (playbooks/policy.yaml caps)' }],
    ['sql-read-only', 'rds_query', { query: 'SELECT * FROM {{t}}' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'query'], category: 'database_writes', message: 'SQL built from a {{template}} cannot be checked before it runs', fix: 'write the statement out in full' }],
    ['sql-read-only', 'rds_query', { query: 'DELETE FROM t' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'query'], category: 'database_writes', message: 'query: DELETE is not a read (allowed: SELECT, SHOW, EXPLAIN)', fix: 'the agent only reads: one plain SELECT, SHOW or EXPLAIN (kills go through follow_up)' }],
    ['sql-read-only', 'rds_query', { query: 'SELECT 1', follow_up: ' KILL 5 ' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'follow_up'], category: 'database_writes', message: 'follow_up must be "KILL {column}" (or KILL CONNECTION / KILL QUERY), got "KILL 5"', fix: 'write follow_up: "KILL {id}"' }],
    ['high-risk-approval', 'kubectl_rollout_undo', { deployment: 'trading-api' }, { risk: 'HIGH', written: { risk: 'HIGH' } } as Partial<StepFacts>, 'compile', { effect: 'needs_approval', field: ['risk'], message: 'a HIGH-risk mutation never runs without approval', fix: 'add requires_approval: true and approvers' }],
    ['high-risk-approval', 'kubectl_rollout_undo', { deployment: 'trading-api' }, { risk: 'HIGH', written: {} } as Partial<StepFacts>, 'compile', { effect: 'needs_approval', field: ['auto_execute'], message: 'a HIGH-risk mutation never runs without approval', fix: 'add requires_approval: true and approvers' }],
    ['kill-idle-only', 'rds_query', { query: "SELECT user FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300", follow_up: 'KILL {id}' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'follow_up'], category: 'database_writes', message: 'the follow-up kills {id}, a column the query does not select', fix: 'select id in the query' }],
    ['kill-idle-only', 'rds_query', { query: "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 30", follow_up: 'KILL {id}' }, {}, 'runtime', { effect: 'refuse', field: ['params', 'query'], category: 'database_writes', message: "kills connections idle for more than 30 s, under the policy's 60 s", fix: 'require time > 60 or more (caps.min_kill_idle_seconds)' }],
    ['protected-service-approval', 'rolling_restart', { deployment: 'wallet-service' }, { written: {} } as Partial<StepFacts>, 'compile', { effect: 'needs_approval', field: ['auto_execute'], message: '"wallet-service" is a protected service (playbooks/policy.yaml): its mutating steps need approval', fix: 'add requires_approval: true' }],
    ['protected-service-approval', 'rolling_restart', { deployment: 'trading-api' }, { service: 'matching-engine', written: {} } as Partial<StepFacts>, 'runtime', { effect: 'needs_approval', field: ['auto_execute'], message: 'mutating steps on the matching engine (matching-engine) always need approval, even at low risk (seed §2 scenario 2)', fix: 'add requires_approval: true' }],
    ['blacklisted-action', 'wallet_transfer', {}, {}, 'compile', { effect: 'refuse', field: ['action'], category: 'wallet_operations', message: 'wallet_transfer is a blacklisted operation, category wallet_operations: the agent never executes it, with or without approval', fix: 'remove the step; the agent may only diagnose, ticket, notify and suggest (playbooks/policy.yaml)' }],
    ['approval-message-needs-approval', 'send_alert', { message: 'x' }, { written: { approvalMessage: true } } as Partial<StepFacts>, 'compile', { effect: 'refuse', field: ['approval_message'], message: 'has an approval_message but runs without approval', fix: 'add requires_approval: true, or remove the message' }],
    ['conflicting-approval-flags', 'send_alert', { message: 'x' }, { written: { autoExecute: true, requiresApproval: true } } as Partial<StepFacts>, 'compile', { effect: 'refuse', field: ['auto_execute'], message: 'sets both auto_execute and requires_approval', fix: 'choose one' }],
  ])('%s on %s %j', (rule, action, params, extra, phase, finding) => {
    expect(found(rule, action, params, extra, phase)).toEqual([{ rule, ...finding }]);
  });
});

describe('lib/policy/step and errors', () => {
  const { isTemplated, stringsOf } = require('../../../../lib/policy/step') as typeof import('../../../../lib/policy/step');
  const { PolicyViolationError } = require('../../../../lib/policy/errors') as typeof import('../../../../lib/policy/errors');
  it('finds templates only in strings, and the strings of a value or a list', () => {
    expect(isTemplated('a {{b}}')).toBe(true);
    expect(isTemplated('a {b}')).toBe(false);
    expect(isTemplated(['{{b}}'])).toBe(false);
    expect(stringsOf('x')).toEqual(['x']);
    expect(stringsOf(['x', 1, null, 'y'])).toEqual(['x', 'y']);
    expect(stringsOf(3)).toEqual([]);
    expect(stringsOf(undefined)).toEqual([]);
  });

  it('PolicyViolationError carries its name, rule, category, step and cause', () => {
    const cause = new Error('under');
    const e = new PolicyViolationError('m', { rule: 'r', category: 'wallet_operations', step: 's', cause });
    expect([e.name, e.message, e.rule, e.category, e.step, e.cause]).toEqual(['PolicyViolationError', 'm', 'r', 'wallet_operations', 's', cause]);
    const bare = new PolicyViolationError('m');
    expect([bare.rule, bare.category, bare.step, bare.cause]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
