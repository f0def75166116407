/**
 * The rules against action shapes the registry does not have today: targets without endpoint
 * roles, endpoint roles without targets, bodies without an endpoint, config readers that fail.
 * A rule must hold for the next action too, not only because two paths cover each other now.
 */
import { runRules, type Finding, type StepFacts } from '../../../../lib/policy';
import type { ActionFacts } from '../../../../lib/policy/step';
import { defaultPolicy } from '../../../../lib/policy/files';
import { SQL_ANALYSIS } from '../../../../lib/policy/sql';
import { RULES } from '../../../../lib/policy/rules';

/** A policy whose endpoint reading fails for a reason that is not a bad endpoint. */
const broken = () => ({ ...defaultPolicy(), normaliseEndpoint: () => { throw new TypeError('service map unreadable'); } });

function action(over: Partial<ActionFacts>): ActionFacts {
  return { name: 'synthetic', kind: 'kubernetes', mutates: true, defaultRisk: 'LOW', ...over } as ActionFacts;
}
function run(rule: string, a: ActionFacts, params: Record<string, unknown>, extra: Partial<StepFacts> = {}): Finding[] {
  return runRules({ name: 's', action: a, mode: 'auto', risk: 'LOW', approvers: [], params, ...extra } as StepFacts, defaultPolicy(), 'runtime').filter((f) => f.rule === rule);
}

describe('protected-service-approval on other action shapes', () => {
  const PSA = 'protected-service-approval';
  const targetsOnly = action({ targets: (p) => [{ kind: (p.kind as 'service') ?? 'service', name: String(p.name) }] });
  it('reads the service and endpoint targets of an action without endpoint roles, once per service', () => {
    expect(run(PSA, targetsOnly, { name: 'WALLET-SERVICE' })).toStrictEqual([{ rule: PSA, effect: 'needs_approval', field: ['auto_execute'], message: '"WALLET-SERVICE" is a protected service (playbooks/policy.yaml): its mutating steps need approval', fix: 'add requires_approval: true' }]);
    expect(run(PSA, targetsOnly, { name: 'wallet-service', kind: 'endpoint' })).toHaveLength(1);
    expect(run(PSA, action({ targets: () => [{ kind: 'service', name: 'wallet-service' }, { kind: 'service', name: 'Wallet-Service.' }] }), {})).toHaveLength(1);
  });

  it('does not take another kind of target, or a templated one, for a service', () => {
    expect(run(PSA, targetsOnly, { name: 'wallet-service', kind: 'cache' })).toEqual([]);
    expect(run(PSA, targetsOnly, { name: '{{svc}}' })).toEqual([]);
  });

  it('reads the endpoint roles of an action without targets', () => {
    const endpointsOnly = action({ roles: { endpoints: ['url'] } });
    expect(run(PSA, endpointsOnly, { url: 'http://wallet-service:8080/admin/gc' })).toHaveLength(1);
    expect(run(PSA, endpointsOnly, { url: 'http://wallet-service:8080/a b' })).toEqual([]);
    expect(run(PSA, endpointsOnly, { url: '{{wallet}}/x' })).toEqual([]);
    expect(run(PSA, endpointsOnly, { url: 42 })).toEqual([]);
  });

  it('asks nothing of a read-only action, even on the matching engine', () => {
    expect(run(PSA, action({ mutates: false, targets: () => [{ kind: 'service', name: 'matching-engine' }] }), {}, { service: 'matching-engine' })).toEqual([]);
  });
});

describe('blacklisted-parameters on other action shapes', () => {
  const BP = 'blacklisted-parameters';
  it('reads a body without an endpoint role, each category once, without an offset', () => {
    const fs = run(BP, action({ roles: { bodies: ['payload'] } }), { payload: { op: 'halt', again: 'halt', url: '/wallet/withdraw' } });
    expect(fs.map((f) => f.category)).toEqual(['matching_engine_core', 'wallet_operations']);
    expect(fs.every((f) => !('offset' in f))).toBe(true);
  });

  it('skips an absent or null body, and an endpoint that is not a string or is templated', () => {
    const a = action({ roles: { endpoints: ['url'], bodies: ['payload'] } });
    expect(run(BP, a, { url: 'trading-api:8080/admin/gc', payload: null })).toEqual([]);
    expect(run(BP, a, { url: 7 })).toEqual([]);
    expect(run(BP, a, { url: '{{u}}/withdraw' })).toEqual([]);
  });

  it('refuses the body of an endpoint whose query was already read without reading the query twice', () => {
    const a = action({ roles: { endpoints: ['url'], bodies: ['payload'] } });
    const fs = run(BP, a, { url: 'trading-api:8080/admin/gc?op=halt', payload: { note: 'fine' } });
    expect(fs).toStrictEqual([expect.objectContaining({ field: ['params', 'url'], category: 'matching_engine_core' })]);
  });

  it('matches an endpoint that does not normalise as written', () => {
    const fs = run(BP, action({ roles: { endpoints: ['url'] } }), { url: 'http://x/a b/withdraw' });
    expect(fs.map((f) => f.category)).toEqual(['wallet_operations']);
    expect(fs[0]!.message).not.toContain('(written');
  });

  it('takes an unreadable config as no keys (parameter-caps refuses it), and skips templated keys and flags', () => {
    const a = action({ roles: { configKeys: () => { throw new Error('unreadable'); }, flagsOff: ['off'] } });
    expect(run(BP, a, { off: ['{{flag}}'] })).toEqual([]);
    expect(run(BP, action({ roles: { configKeys: () => ['{{k}}', 'maker_fee'] } }), {}).map((f) => f.field)).toEqual([['params']]);
    expect(run(BP, action({ roles: { flagsOn: ['on'] } }), { on: 'withdrawals' }).map((f) => f.field)).toEqual([['params', 'on', 0]]);
  });
});

describe('parameter-caps on other action shapes: the field a cap message names', () => {
  const PC = 'parameter-caps';
  const capped = (...messages: string[]) => action({ checkCaps: () => messages });
  it('puts the finding on the parameter the message starts with, when the step has it', () => {
    expect(run(PC, capped('count 9 is over the cap of 5'), { count: 9 })).toStrictEqual([{ rule: PC, effect: 'refuse', field: ['params', 'count'], message: 'count 9 is over the cap of 5', fix: 'stay within the cap (playbooks/policy.yaml caps)' }]);
  });
  it('puts it on the parameters as a whole when the first word is not a parameter, or the message starts with no word', () => {
    // A wrong field sends the author to a parameter that does not exist.
    expect(run(PC, capped('total of 9 kills is over 5'), { count: 9 }).map((f) => f.field)).toEqual([['params']]);
    expect(run(PC, capped('«count» over'), { count: 9 }).map((f) => f.field)).toEqual([['params']]);
    expect(run(PC, capped('constructor is not a parameter'), { count: 9 }).map((f) => f.field)).toEqual([['params']]);
  });
});

describe('expression-bounds on other action shapes', () => {
  const EB = 'expression-bounds';
  const compile = (a: ActionFacts, bounds: StepFacts['bounds']) =>
    runRules({ name: 's', action: a, mode: 'auto', risk: 'LOW', approvers: [], params: { new_max: '{{current_max * 2}}' }, bounds } as StepFacts, defaultPolicy(), 'compile').filter((f) => f.rule === EB);
  const scaled = action({ bounds: { new_max: { local: 'current_max', floor: 'min_scale_factor', ceiling: 'max_scale_factor' } } });
  const bound = (min: number, max: number, param = 'new_max') => ({ param, expression: `current_max * x`, local: 'current_max', min, max });
  it('takes the policy floor and ceiling themselves (1..3) as within bounds', () => {
    expect(compile(scaled, [bound(1, 3)])).toEqual([]);
  });
  it('names the whole factor range of an expression outside the policy, or its one value', () => {
    expect(compile(scaled, [bound(0.5, 4)]).map((f) => f.message)).toEqual(['"current_max * x" scales current_max by 0.5..4, outside the policy\'s 1..3 (min_scale_factor, max_scale_factor)']);
    expect(compile(scaled, [bound(10, 10)]).map((f) => f.message)).toEqual(['"current_max * x" scales current_max by 10, outside the policy\'s 1..3 (min_scale_factor, max_scale_factor)']);
  });
  it('skips a bound on a parameter the action does not scale, and an action that scales nothing', () => {
    expect(compile(scaled, [bound(10, 10, 'other')])).toEqual([]);
    expect(compile(action({}), [bound(10, 10)])).toEqual([]);
  });
});

describe('approvers-named on other step shapes', () => {
  const AN = 'approvers-named';
  const step = (over: Partial<StepFacts>) => runRules({ name: 's', action: action({}), mode: 'approval', risk: 'HIGH', approvers: [], params: {}, ...over } as StepFacts, defaultPolicy(), 'compile').filter((f) => f.rule === AN);
  it('refuses a CRITICAL approval step that names no approvers, and one whose facts carry nothing as written', () => {
    expect(step({ risk: 'CRITICAL', written: {} } as Partial<StepFacts>).map((f) => f.message)).toEqual(['CRITICAL risk and needs approval: name the approvers']);
    expect(step({}).map((f) => f.message)).toEqual(['HIGH risk and needs approval: name the approvers']);
  });
  it('asks nothing of an automatic HIGH step (other rules decide whether it may run alone)', () => {
    expect(step({ mode: 'auto' })).toEqual([]);
  });
});

describe('sql-read-only and kill-idle-only on other action shapes', () => {
  const SRO = 'sql-read-only';
  const KIO = 'kill-idle-only';
  const IDLE = "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300";
  const sqlAction = action({ roles: { sql: ['q'], killFollowUp: { param: 'follow', query: 'q' }, sqlAnalysis: SQL_ANALYSIS } });
  it('refuses SQL an action cannot parse (no roles.sqlAnalysis), on the parameter, as a database write', () => {
    expect(run(SRO, action({ roles: { sql: ['q'] } }), { q: 'SELECT 1' })).toStrictEqual([
      { rule: SRO, effect: 'refuse', field: ['params', 'q'], category: 'database_writes', message: 'q: cannot be checked: action synthetic declares SQL parameters but no SQL parser (roles.sqlAnalysis)', fix: 'declare roles.sqlAnalysis: SQL_ANALYSIS in the action (lib/policy/sql.ts)' },
    ]);
  });
  it('refuses a follow-up that is not a string even when it spells KILL {id}', () => {
    // A list ['KILL {id}'] reads as "KILL {id}" when coerced to text; it is not the one allowed form.
    expect(run(SRO, sqlAction, { q: IDLE, follow: ['KILL {id}'] }).map((f) => f.field)).toEqual([['params', 'follow']]);
    expect(run(KIO, sqlAction, { q: IDLE, follow: ['KILL {id}'] })).toEqual([]);
  });
  it('leaves a follow-up that is not KILL, or a query that is not text, to sql-read-only', () => {
    expect(run(KIO, sqlAction, { q: 'SELECT id FROM t', follow: 'DROP {id}' })).toEqual([]);
    expect(run(KIO, sqlAction, { q: 42, follow: 'KILL {id}' })).toEqual([]);
  });
  it('matches the killed column to the selected one without regard to case', () => {
    expect(run(KIO, sqlAction, { q: IDLE.replace('SELECT id', 'SELECT ID'), follow: 'KILL {id}' })).toEqual([]);
    expect(run(KIO, sqlAction, { q: IDLE.replace('SELECT id', 'SELECT user'), follow: 'KILL {id}' }).map((f) => f.message)).toEqual(['the follow-up kills {id}, a column the query does not select']);
  });
  it('says how to write a kill list that is limited to idle connections', () => {
    expect(run(KIO, sqlAction, { q: 'SELECT id FROM information_schema.processlist', follow: 'KILL {id}' })).toStrictEqual([
      { rule: KIO, effect: 'refuse', field: ['params', 'q'], category: 'database_writes', message: "the kill list cannot be limited to idle connections: its WHERE must require command = 'Sleep' (idle connections only), joined by AND", fix: "select from information_schema.processlist WHERE command = 'Sleep' AND time > 300" },
    ]);
  });
});

describe('blacklisted-parameters: what it reports and what it lets fail loudly', () => {
  const BP = 'blacklisted-parameters';
  const withPolicy = (a: ActionFacts, params: Record<string, unknown>, policy = defaultPolicy()) =>
    runRules({ name: 's', action: a, mode: 'auto', risk: 'LOW', approvers: [], params } as StepFacts, policy, 'runtime', RULES.filter((r) => r.id === BP));
  it('refuses a body nested too deep on its parameter, saying to send a flat body', () => {
    let deep: unknown = 'halt';
    for (let i = 0; i < 20; i += 1) deep = [deep];
    expect(run(BP, action({ roles: { bodies: ['payload'] } }), { payload: deep })).toStrictEqual([
      { rule: BP, effect: 'refuse', field: ['params', 'payload'], message: 'endpoint "(request body)": nested deeper than 16 levels: it is not read, so it is not sent', fix: 'send a flat request body' },
    ]);
  });
  it('reports each category once for a body that names it twice', () => {
    const fs = run(BP, action({ roles: { bodies: ['payload'] } }), { payload: { op: 'halt', then: 'resume' } });
    expect(fs.map((f) => f.category)).toEqual(['matching_engine_core']);
  });
  it('lets a failure that is not a bad endpoint or body propagate instead of taking it for one', () => {
    // Swallowing it would judge only the endpoint as written, or refuse a body for the wrong reason.
    expect(() => withPolicy(action({ roles: { endpoints: ['url'] } }), { url: 'trading-api:8080/admin/gc' }, broken())).toThrow('service map unreadable');
    const trap = { get op(): string { throw new TypeError('getter failed'); } };
    expect(() => run(BP, action({ roles: { bodies: ['payload'] } }), { payload: trap })).toThrow('getter failed');
  });
  it('judges a templated configuration key or flag when it is resolved, not as written', () => {
    const a = action({ roles: { configKeys: (p) => [String(p.key)], flagsOff: ['flags'] } });
    expect(run(BP, a, { key: '{{withdraw_key}}', flags: ['{{wallet_flag}}'] })).toEqual([]);
    expect(run(BP, a, { key: 'withdraw_limit', flags: ['wallet_sync'] }).map((f) => f.field)).toEqual([['params'], ['params', 'flags', 0]]);
  });
});

describe('rules that read endpoints: a failure that is not a bad endpoint propagates', () => {
  // Each rule on its own (runRules with that rule only): taken for a bad endpoint, the failure would be
  // reported as the author's mistake (endpoint-allow-list) or skipped (protected-service-approval).
  it.each(['endpoint-allow-list', 'protected-service-approval', 'blacklisted-parameters'])('%s', (id) => {
    const step = { name: 's', action: action({ roles: { endpoints: ['url'] } }), mode: 'auto', risk: 'LOW', approvers: [], params: { url: 'trading-api:8080/admin/gc' } } as StepFacts;
    expect(() => runRules(step, broken(), 'runtime', RULES.filter((r) => r.id === id))).toThrow('service map unreadable');
    expect(() => runRules(step, defaultPolicy(), 'runtime', RULES.filter((r) => r.id === id))).not.toThrow();
  });
});

describe('kill-idle-only: a follow-up that is not text', () => {
  it('is left to sql-read-only even when the query could select every thread', () => {
    const a = action({ roles: { sql: ['q'], killFollowUp: { param: 'follow', query: 'q' }, sqlAnalysis: SQL_ANALYSIS } });
    expect(run('kill-idle-only', a, { q: 'SELECT id FROM information_schema.processlist', follow: ['KILL {id}'] })).toEqual([]);
    expect(run('sql-read-only', a, { q: 'SELECT id FROM information_schema.processlist', follow: ['KILL {id}'] })).toHaveLength(1);
  });
});
