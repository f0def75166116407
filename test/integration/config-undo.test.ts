/**
 * The undo of scenario 1's temporary changes, on dynalite and the local config store: rate
 * limiting and degraded features recorded on the timeline are put back once, newest first, and a
 * value someone changed since is left alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileConfigStore } from '../../lib/actions/config/file-config';
import type { ConfigOps } from '../../lib/actions/ports';
import { action as featureFlags } from '../../lib/actions/feature_flags';
import { action as updateConfig } from '../../lib/actions/update_config';
import { appendEvent, getTimeline, openOrJoinIncident } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo, type Tables } from '../../lib/local/dynalite';
import { LocalEngine } from '../../lib/local/engine';
import { resolveByHand } from '../../lib/runtime/core';
import { undoConfigChanges } from '../../lib/runtime/config-undo';
import { actionContext } from '../helpers/action-context';

let dynamo: LocalDynamo;
let tables: Tables;
let count = 0;
let dir: string;
let store: FileConfigStore;
const now = () => new Date('2026-02-09T14:40:00Z');

beforeAll(async () => {
  dynamo = await startDynalite({ port: 0 });
});
afterAll(async () => dynamo.stop());
beforeEach(async () => {
  count += 1;
  tables = { incidents: `undo-incidents-${count}`, breakers: `undo-breakers-${count}` };
  await createTables(dynamo.client, tables);
  dir = mkdtempSync(path.join(tmpdir(), 'sre-undo-'));
  store = new FileConfigStore(path.join(dir, 'config-store.json'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Opens an incident and runs the two seed steps, recording them as the dispatcher does. */
async function surgeMitigated(doc = dynamo.doc, where: Tables = tables): Promise<string> {
  const { incident } = await openOrJoinIncident(doc, where, { playbook: 'traffic-surge', service: 'trading-api', severity: 'MEDIUM', alarm: { name: 'sre-agent/traffic-surge/trading-api' }, detectedAt: now(), anomalyStartedAt: now() });
  const steps = [
    { step: 'enable_rate_limiting', def: updateConfig, params: { service: 'trading-api', config: 'rate_limit_enabled=true', rate_limit: '1000 req/s per user' } },
    { step: 'degrade_non_critical', def: featureFlags, params: { disable: ['market_history_api', 'leaderboard_api'], enable: [] } },
  ] as const;
  for (const s of steps) {
    const r = await (s.def.run as (p: unknown, c: unknown) => Promise<{ summary: string; before?: unknown; after?: unknown }>)(s.params, actionContext({ targets: { config: store }, step: s.step, incidentId: incident.id }));
    await appendEvent(doc, where, incident.id, { at: now(), type: 'action', step: s.step, actor: 'agent', summary: r.summary, before: r.before, after: r.after, data: { action: s.def.name, params: s.params } });
  }
  return incident.id;
}

describe('Function: undoConfigChanges', () => {
  it('restores the before values of every change, deletes keys that did not exist, and records it', async () => {
    // prepare: the flags were on, rate limiting was off and had no limit
    await store.set('trading-api', { rate_limit_enabled: 'false' });
    await store.setFlags({ market_history_api: true, leaderboard_api: true });
    const id = await surgeMitigated();
    expect(store.read().flags.global).toEqual({ market_history_api: false, leaderboard_api: false });

    // act
    const result = await undoConfigChanges(id, { doc: dynamo.doc, tables, config: store, now });

    // assess
    expect(result.ran).toBe(true);
    expect(result.conflicts).toEqual([]);
    expect(store.read()).toEqual({ config: { 'trading-api': { rate_limit_enabled: 'false' } }, flags: { global: { market_history_api: true, leaderboard_api: true } } });
    const restored = (await getTimeline(dynamo.doc, tables, id)).find((e) => e.type === 'config_restored');
    expect(restored?.summary).toContain('rate_limit → null');
    expect(restored?.after).toEqual({ market_history_api: true, leaderboard_api: true, rate_limit_enabled: 'false', rate_limit: null });
  });

  it('runs once: a second undo (the resolve hook after the CLI) changes nothing', async () => {
    const id = await surgeMitigated();
    await undoConfigChanges(id, { doc: dynamo.doc, tables, config: store, now });
    await store.setFlags({ leaderboard_api: false }); // someone turns it off again by hand

    const second = await undoConfigChanges(id, { doc: dynamo.doc, tables, config: store, now });

    expect(second.ran).toBe(false);
    expect(second.summary).toContain('already restored');
    expect(store.read().flags.global?.leaderboard_api).toBe(false);
  });

  it('resumes after a restore that failed partway: the retry puts back the rest and takes nothing restored for a later change', async () => {
    // prepare: the flags (the newest change) go back, then the store fails on the config
    await store.set('trading-api', { rate_limit_enabled: 'false' });
    await store.setFlags({ market_history_api: true, leaderboard_api: true });
    const id = await surgeMitigated();
    let fail = true;
    const flaky: ConfigOps = {
      name: store.name,
      get: (service, k) => store.get(service, k),
      getFlags: (names, service) => store.getFlags(names, service),
      setFlags: (values, service) => store.setFlags(values, service),
      set: async (service, values) => {
        if (fail) throw new Error('ThrottlingException: Rate exceeded');
        return store.set(service, values);
      },
    };

    // act
    await expect(undoConfigChanges(id, { doc: dynamo.doc, tables, config: flaky, now })).rejects.toThrow('Rate exceeded');
    const halfway = store.read();
    fail = false;
    const retry = await undoConfigChanges(id, { doc: dynamo.doc, tables, config: flaky, now });

    // assess
    expect(halfway).toEqual({ config: { 'trading-api': { rate_limit_enabled: 'true', rate_limit: '{"requests":1000,"per_seconds":1,"scope":"user"}' } }, flags: { global: { market_history_api: true, leaderboard_api: true } } });
    expect(retry.ran).toBe(true);
    expect(retry.conflicts).toEqual([]);
    expect(retry.restored.map((r) => r.key).sort()).toEqual(['leaderboard_api', 'market_history_api', 'rate_limit', 'rate_limit_enabled']);
    expect(store.read()).toEqual({ config: { 'trading-api': { rate_limit_enabled: 'false' } }, flags: { global: { market_history_api: true, leaderboard_api: true } } });
    expect((await getTimeline(dynamo.doc, tables, id)).filter((e) => e.type === 'config_restored')).toHaveLength(1);
    expect((await undoConfigChanges(id, { doc: dynamo.doc, tables, config: store, now })).summary).toContain('already restored');
  });

  it('does not start a second undo while one holds the claim', async () => {
    const id = await surgeMitigated();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The first undo is inside its writes, so past its claim, once it calls setFlags: waited for,
    // not assumed after a fixed 50 ms (a loaded machine may not have claimed by then).
    let writing!: () => void;
    const inside = new Promise<void>((r) => (writing = r));
    const slow: ConfigOps = { name: store.name, get: (a, b) => store.get(a, b), getFlags: (a, b) => store.getFlags(a, b), set: (a, b) => store.set(a, b), setFlags: async (a, b) => { writing(); await held; return store.setFlags(a, b); } };

    const first = undoConfigChanges(id, { doc: dynamo.doc, tables, config: slow, now });
    await inside;
    const second = await undoConfigChanges(id, { doc: dynamo.doc, tables, config: store, now });
    release();

    expect(second).toMatchObject({ ran: false, summary: expect.stringContaining('a configuration undo is running (agent') });
    expect((await first).ran).toBe(true);
  });

  it('leaves a value someone changed since the agent set it, and reports it', async () => {
    await store.setFlags({ market_history_api: true, leaderboard_api: true });
    const id = await surgeMitigated();
    await store.setFlags({ leaderboard_api: true }); // an SRE already turned the leaderboard back on

    const result = await undoConfigChanges(id, { doc: dynamo.doc, tables, config: store, now });

    expect(result.conflicts).toEqual([expect.objectContaining({ key: 'leaderboard_api', set: false, found: true })]);
    expect(store.read().flags.global).toEqual({ market_history_api: true, leaderboard_api: true });
  });

  it('fails with TargetNotConfiguredError when there is something to undo but no store, changing nothing', async () => {
    const id = await surgeMitigated();

    await expect(undoConfigChanges(id, { doc: dynamo.doc, tables, now })).rejects.toMatchObject({ name: 'TargetNotConfiguredError', target: id });
    expect(store.read().flags.global).toEqual({ market_history_api: false, leaderboard_api: false });
  });

  it('has nothing to do for an incident without config changes', async () => {
    const { incident } = await openOrJoinIncident(dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'MEDIUM', alarm: { name: 'a' }, detectedAt: now(), anomalyStartedAt: now() });

    expect(await undoConfigChanges(incident.id, { doc: dynamo.doc, tables, now })).toMatchObject({ ran: false, restored: [] });
  });
});

describe('resolving an incident', () => {
  it('restores its configuration: a person resolves a mitigated traffic surge and config_restored is on the timeline', async () => {
    // prepare: the local engine with the config store as its target, the surge mitigated on its tables
    await store.setFlags({ market_history_api: true, leaderboard_api: true });
    const engine = await new LocalEngine({ targets: { config: store }, notifier: false }).start();
    try {
      const id = await surgeMitigated(engine.doc, engine.tables);

      // act
      await resolveByHand(engine.coreDeps(), id, { person: 'alice', reason: 'traffic back to normal' });

      // assess
      const restored = (await getTimeline(engine.doc, engine.tables, id)).filter((e) => e.type === 'config_restored');
      expect(restored).toHaveLength(1);
      expect(restored[0]).toMatchObject({ actor: 'person:alice', after: { market_history_api: true, leaderboard_api: true, rate_limit_enabled: null, rate_limit: null } });
      expect(store.read()).toEqual({ config: { 'trading-api': {} }, flags: { global: { market_history_api: true, leaderboard_api: true } } });
    } finally {
      await engine.stop();
    }
  });
});
