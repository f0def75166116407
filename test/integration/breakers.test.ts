/** Integration tests of the seed §3.2 circuit breakers against dynalite (in-process, in memory, random port; fresh tables per test). */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_BREAKER_CONFIG,
  InvalidBreakerConfigError,
  clearActiveAnomaly,
  gate,
  getGlobalBreaker,
  getServiceBreaker,
  listBreakers,
  parseBreakerConfig,
  recordActiveAnomaly,
  recordDataCollection,
  recordRecovery,
  recordRemediationAttempt,
  recordRemediationResult,
  resetBreaker,
  tripGlobalBreaker,
  tripServiceBreaker,
  type BreakerChange,
  type BreakerConfig,
} from '../../lib/breaker';
import type { Severity } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo, type Tables } from '../../lib/local/dynalite';

let dynamo: LocalDynamo;
let tables: Tables;
let tableCount = 0;
const config: BreakerConfig = {};

beforeAll(async () => {
  dynamo = await startDynalite({ port: 0 });
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tableCount += 1;
  tables = { incidents: `incidents-${tableCount}`, breakers: `breakers-${tableCount}` };
  await createTables(dynamo.client, tables);
});

const T0 = new Date('2026-02-09T14:00:00.000Z');
const after = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

async function activate(count: number, severity: Severity = 'HIGH', now = T0): Promise<BreakerChange[]> {
  const changes: BreakerChange[] = [];
  for (let i = 1; i <= count; i += 1) {
    changes.push(...(await recordActiveAnomaly(dynamo.doc, tables, config, now, { incidentId: `INC-20260209-${String(i).padStart(3, '0')}`, severity })).changes);
  }
  return changes;
}

async function collect(flags: readonly boolean[], cfg: BreakerConfig = config): Promise<BreakerChange[]> {
  const changes: BreakerChange[] = [];
  for (const ok of flags) changes.push(...(await recordDataCollection(dynamo.doc, tables, cfg, T0, { ok })).changes);
  return changes;
}

async function fail(times: number, now = T0): Promise<BreakerChange[]> {
  const changes: BreakerChange[] = [];
  for (let i = 0; i < times; i += 1) changes.push(...(await recordRemediationResult(dynamo.doc, tables, config, now, { service: 'trading-api', ok: false })).changes);
  return changes;
}

describe('Circuit breakers (dynalite)', () => {
  describe('Global breaker: active anomalies with severity ≥ HIGH', () => {
    it('stays closed at 5 active HIGH anomalies and opens at the 6th', async () => {
      const atFive = await activate(5);
      expect(atFive).toEqual([]);
      expect((await gate(dynamo.doc, tables, config, T0)).mode).toBe('auto');

      const { activeHighSeverity, changes } = await recordActiveAnomaly(dynamo.doc, tables, config, T0, { incidentId: 'INC-20260209-006', severity: 'CRITICAL' });

      expect(activeHighSeverity).toBe(6);
      expect(changes).toEqual([
        {
          scope: 'global',
          from: 'CLOSED',
          to: 'OPEN',
          cause: 'active_high_severity',
          reason: '6 active anomalies with severity ≥ HIGH (> 5): likely an infrastructure problem',
          at: T0.toISOString(),
          notify: ['oncall_sre', 'team_lead'],
        },
      ]);
    });

    it('counts neither MEDIUM nor LOW anomalies, and an incident recorded twice only once', async () => {
      await activate(6, 'MEDIUM');
      await activate(3, 'LOW');
      const twice = await activate(5, 'HIGH');
      const again = await activate(5, 'CRITICAL');

      expect([...twice, ...again]).toEqual([]);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).activeHighSeverity).toHaveLength(5);
    });

    it('stops counting an anomaly once cleared or downgraded', async () => {
      await activate(5);

      await clearActiveAnomaly(dynamo.doc, tables, config, T0, { incidentId: 'INC-20260209-001' });
      const downgraded = await recordActiveAnomaly(dynamo.doc, tables, config, T0, { incidentId: 'INC-20260209-002', severity: 'MEDIUM' });

      expect(downgraded.activeHighSeverity).toBe(3);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).activeHighSeverity).toEqual(['INC-20260209-003', 'INC-20260209-004', 'INC-20260209-005']);
    });
  });

  describe('Global breaker: consecutive remediation failures', () => {
    it('stays closed after 2 failures and opens at the 3rd', async () => {
      expect(await fail(2)).toEqual([]);

      const { consecutiveFailures, changes } = await recordRemediationResult(dynamo.doc, tables, config, T0, { service: 'matching-engine', ok: false });

      expect(consecutiveFailures).toBe(3);
      expect(changes).toEqual([
        expect.objectContaining({ scope: 'global', from: 'CLOSED', to: 'OPEN', cause: 'consecutive_failures', reason: '3 consecutive remediation failures (≥ 3) (last on matching-engine)' }),
      ]);
    });

    it('starts counting again after a success', async () => {
      await fail(2);

      const success = await recordRemediationResult(dynamo.doc, tables, config, T0, { service: 'trading-api', ok: true });
      const changes = await fail(2);

      expect(success.consecutiveFailures).toBe(0);
      expect(changes).toEqual([]);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).consecutiveFailures).toBe(2);
    });

    it('reports the trip exactly once when 10 failures land at the same time', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => recordRemediationResult(dynamo.doc, tables, config, T0, { service: `svc-${i}`, ok: false })),
      );

      expect(results.flatMap((r) => r.changes)).toHaveLength(1);
      expect(results.map((r) => r.consecutiveFailures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  describe('Global breaker: data-collection failure rate', () => {
    it('stays closed at a rate of exactly 0.5', async () => {
      expect(await collect([true, false, true, false, true, false, true, false])).toEqual([]);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).dataCollection).toEqual({ samples: 8, failures: 4, failureRate: 0.5 });
    });

    it('does not judge fewer evaluations than the minimum sample (3 failures of 3)', async () => {
      expect(await collect([false, false, false])).toEqual([]);
      expect((await gate(dynamo.doc, tables, config, T0)).mode).toBe('auto');
    });

    it('opens when the rate exceeds 0.5 over the minimum sample', async () => {
      const changes = await collect([true, false, false, false]);

      expect(changes).toEqual([
        expect.objectContaining({
          scope: 'global',
          to: 'OPEN',
          cause: 'data_collection',
          reason: 'data collection failing: 3 of the last 4 evaluations (rate 0.75 > 0.5): the agent may misjudge',
        }),
      ]);
    });

    it('judges the sliding window only: old successes slide out, and the stored window stays bounded', async () => {
      const small: BreakerConfig = { dataCollectionWindow: 4, dataCollectionMinSamples: 4 };
      // Over all 8 evaluations the rate would be 3/8; over the last 4 it is 3/4.
      const beforeThird = await collect([true, true, true, true, true, false, false], small);
      const third = await collect([false], small);

      expect(beforeThird).toEqual([]);
      expect(third).toEqual([expect.objectContaining({ cause: 'data_collection', reason: expect.stringContaining('3 of the last 4') })]);
      expect((await getGlobalBreaker(dynamo.doc, tables, small)).dataCollection).toEqual({ samples: 4, failures: 3, failureRate: 0.75 });
    });

    it('keeps the window exact under 40 concurrent evaluations', async () => {
      const results = await Promise.all(Array.from({ length: 40 }, () => recordDataCollection(dynamo.doc, tables, config, T0, { ok: true })));

      expect(results.every((r) => r.changes.length === 0)).toBe(true);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).dataCollection).toEqual({ samples: 20, failures: 0, failureRate: 0 });
    });
  });

  describe('Function: gate', () => {
    it('returns auto while every breaker is closed', async () => {
      expect(await gate(dynamo.doc, tables, config, T0, { service: 'trading-api' })).toEqual({
        mode: 'auto',
        reason: 'global and trading-api breakers closed',
        changes: [],
      });
    });

    it('returns diagnose_only with the reason while the global breaker is open', async () => {
      await fail(3);

      const decision = await gate(dynamo.doc, tables, config, after(60), { service: 'trading-api' });

      expect(decision.mode).toBe('diagnose_only');
      expect(decision.reason).toBe(`global breaker open since ${T0.toISOString()}: 3 consecutive remediation failures (≥ 3) (last on trading-api)`);
      expect(decision.changes).toEqual([]);
    });

    it('returns service_stopped for a service whose breaker is open, and auto for the others', async () => {
      await tripServiceBreaker(dynamo.doc, tables, config, T0, { service: 'redis-cache', reason: 'owner froze changes' });

      const stopped = await gate(dynamo.doc, tables, config, after(60), { service: 'redis-cache' });
      const other = await gate(dynamo.doc, tables, config, after(60), { service: 'trading-api' });

      expect(stopped.mode).toBe('service_stopped');
      expect(stopped.reason).toContain('owner froze changes');
      expect(other.mode).toBe('auto');
    });

    it('trips the breaker itself when a stored condition holds but the trip write was lost', async () => {
      await dynamo.doc.send(
        new UpdateCommand({ TableName: tables.breakers, Key: { pk: 'GLOBAL' }, UpdateExpression: 'SET consecutiveFailures = :n', ExpressionAttributeValues: { ':n': 3 } }),
      );

      const decision = await gate(dynamo.doc, tables, config, T0);

      expect(decision.mode).toBe('diagnose_only');
      expect(decision.changes).toEqual([expect.objectContaining({ scope: 'global', to: 'OPEN', cause: 'consecutive_failures' })]);
    });
  });

  describe('Per-service breaker', () => {
    it('allows exactly 3 of 20 parallel remediation attempts and opens the breaker once', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => recordRemediationAttempt(dynamo.doc, tables, config, T0, 'trading-api')));

      const allowed = results.filter((r) => r.allowed).length;
      expect(allowed).toBe(3);
      expect(results.filter((r) => !r.allowed)).toHaveLength(17);
      const changes = results.flatMap((r) => r.changes);
      expect(changes).toEqual([
        {
          scope: 'service',
          service: 'trading-api',
          from: 'CLOSED',
          to: 'OPEN',
          cause: 'service_attempts',
          reason: '3 remediation attempts on trading-api within 3600 s without recovery (limit 3)',
          at: T0.toISOString(),
          notify: ['service_owner'],
        },
      ]);
      expect((await getServiceBreaker(dynamo.doc, tables, config, T0, 'trading-api')).attempts).toHaveLength(3);
      expect((await gate(dynamo.doc, tables, config, T0, { service: 'trading-api' })).mode).toBe('service_stopped');
    });

    it('keeps services apart: a stopped service does not limit another', async () => {
      for (let i = 0; i < 4; i += 1) await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'kafka-consumer');

      const other = await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'trading-api');

      expect(other).toEqual({ allowed: true, attemptsInWindow: 1, changes: [] });
    });

    it('counts only the attempts within the last hour', async () => {
      for (const s of [0, 30 * 60, 59 * 60]) expect((await recordRemediationAttempt(dynamo.doc, tables, config, after(s), 'trading-api')).allowed).toBe(true);

      const at61 = await recordRemediationAttempt(dynamo.doc, tables, config, after(61 * 60), 'trading-api');
      const at62 = await recordRemediationAttempt(dynamo.doc, tables, config, after(62 * 60), 'trading-api');

      expect(at61).toMatchObject({ allowed: true, attemptsInWindow: 3 });
      expect(at62).toMatchObject({ allowed: false, attemptsInWindow: 3 });
      expect(at62.changes).toEqual([expect.objectContaining({ scope: 'service', to: 'OPEN' })]);
    });

    it('a recovery clears the count and closes the breaker, returning the change', async () => {
      for (let i = 0; i < 4; i += 1) await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'trading-api');

      const changes = await recordRecovery(dynamo.doc, tables, config, after(120), 'trading-api');
      const next = await recordRemediationAttempt(dynamo.doc, tables, config, after(180), 'trading-api');

      expect(changes).toEqual([
        { scope: 'service', service: 'trading-api', from: 'OPEN', to: 'CLOSED', cause: 'recovery', reason: 'trading-api recovered', at: after(120).toISOString(), notify: ['service_owner'] },
      ]);
      expect(next).toEqual({ allowed: true, attemptsInWindow: 1, changes: [] });
      expect(await recordRecovery(dynamo.doc, tables, config, after(200), 'trading-api')).toEqual([]);
    });
  });

  describe('Reset', () => {
    it('resetBreaker closes the global breaker by hand and returns the change; a second reset changes nothing', async () => {
      await fail(3);

      const changes = await resetBreaker(dynamo.doc, tables, config, after(60), { actor: 'cli:alice' });
      const again = await resetBreaker(dynamo.doc, tables, config, after(61), { actor: 'cli:alice' });

      expect(changes).toEqual([
        { scope: 'global', from: 'OPEN', to: 'CLOSED', cause: 'manual_reset', reason: 'reset by cli:alice', at: after(60).toISOString(), notify: ['oncall_sre', 'team_lead'] },
      ]);
      expect(again).toEqual([]);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).consecutiveFailures).toBe(0);
      expect((await gate(dynamo.doc, tables, config, after(62))).mode).toBe('auto');
    });

    it('resetBreaker(service) closes that service breaker and gives it a fresh attempt budget', async () => {
      for (let i = 0; i < 4; i += 1) await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'trading-api');

      const changes = await resetBreaker(dynamo.doc, tables, config, after(60), { service: 'trading-api', actor: 'cli:bob' });

      expect(changes).toEqual([expect.objectContaining({ scope: 'service', service: 'trading-api', from: 'OPEN', to: 'CLOSED', cause: 'manual_reset' })]);
      expect((await recordRemediationAttempt(dynamo.doc, tables, config, after(61), 'trading-api')).allowed).toBe(true);
    });

    it('gate closes the global breaker after the cool-down, once for two concurrent gates', async () => {
      await fail(3, T0);
      expect((await gate(dynamo.doc, tables, config, after(1799))).mode).toBe('diagnose_only');

      const decisions = await Promise.all([gate(dynamo.doc, tables, config, after(1800)), gate(dynamo.doc, tables, config, after(1800))]);

      expect(decisions.map((d) => d.mode)).toEqual(['auto', 'auto']);
      expect(decisions.flatMap((d) => d.changes)).toEqual([
        expect.objectContaining({ scope: 'global', from: 'OPEN', to: 'CLOSED', cause: 'cool_down', at: after(1800).toISOString(), notify: ['oncall_sre', 'team_lead'] }),
      ]);
      expect((await getGlobalBreaker(dynamo.doc, tables, config)).consecutiveFailures).toBe(0);
    });

    it('honours a configured cool-down', async () => {
      const quick: BreakerConfig = { coolDownSeconds: 60 };
      await fail(3, T0);

      expect((await gate(dynamo.doc, tables, quick, after(59))).mode).toBe('diagnose_only');
      expect((await gate(dynamo.doc, tables, quick, after(60))).mode).toBe('auto');
    });

    it('keeps the global breaker open past the cool-down while its condition still holds', async () => {
      await activate(6);

      const decision = await gate(dynamo.doc, tables, config, after(7200));

      expect(decision.mode).toBe('diagnose_only');
      expect(decision.reason).toContain('6 active anomalies');
      expect(decision.changes).toEqual([]);
    });

    it('keeps a breaker tripped by hand open past the cool-down until reset by hand', async () => {
      await tripGlobalBreaker(dynamo.doc, tables, config, T0, { reason: 'war room: change freeze' });

      expect((await gate(dynamo.doc, tables, config, after(86_400))).mode).toBe('diagnose_only');
      await resetBreaker(dynamo.doc, tables, config, after(86_401));
      expect((await gate(dynamo.doc, tables, config, after(86_402))).mode).toBe('auto');
    });

    it('closes a service breaker after the cool-down only once its attempts have left the 1 h window', async () => {
      for (let i = 0; i < 4; i += 1) await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'trading-api');

      const afterCoolDown = await gate(dynamo.doc, tables, config, after(1800), { service: 'trading-api' });
      const afterWindow = await gate(dynamo.doc, tables, config, after(3601), { service: 'trading-api' });

      expect(afterCoolDown.mode).toBe('service_stopped');
      expect(afterCoolDown.reason).toContain(`closes after ${after(3600).toISOString()}`);
      expect(afterWindow).toMatchObject({ mode: 'auto', changes: [expect.objectContaining({ scope: 'service', service: 'trading-api', to: 'CLOSED', cause: 'cool_down' })] });
    });
  });

  describe('Status and configuration', () => {
    it('lists the global breaker first, then services by name', async () => {
      await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'b-service');
      await recordRemediationAttempt(dynamo.doc, tables, config, T0, 'a-service');

      const list = await listBreakers(dynamo.doc, tables, config, T0);

      expect(list.map((b) => [b.scope, b.service, b.state])).toEqual([
        ['global', undefined, 'CLOSED'],
        ['service', 'a-service', 'CLOSED'],
        ['service', 'b-service', 'CLOSED'],
      ]);
    });

    it('parseBreakerConfig fills the seed defaults and refuses nonsense with the field named', () => {
      expect(parseBreakerConfig(undefined)).toEqual(DEFAULT_BREAKER_CONFIG);
      expect(parseBreakerConfig({ coolDownSeconds: 600 }).coolDownSeconds).toBe(600);
      expect(() => parseBreakerConfig({ maxDataCollectionFailureRate: 2 })).toThrow(InvalidBreakerConfigError);
      expect(() => parseBreakerConfig({ serviceAttemptLimit: 0 })).toThrow(/serviceAttemptLimit/);
    });
  });
});
