/**
 * The undo of scenario 1's temporary changes, on dynalite and the local config store: rate
 * limiting and degraded features recorded on the timeline are put back once, newest first, and a
 * value someone changed since is left alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileConfigStore } from '../../lib/actions/config/file-config';
import { action as featureFlags } from '../../lib/actions/feature_flags';
import { action as updateConfig } from '../../lib/actions/update_config';
import { appendEvent, getTimeline, openOrJoinIncident } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo, type Tables } from '../../lib/local/dynalite';
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
async function surgeMitigated(): Promise<string> {
  const { incident } = await openOrJoinIncident(dynamo.doc, tables, { playbook: 'traffic-surge', service: 'trading-api', severity: 'MEDIUM', alarm: { name: 'sre-agent/traffic-surge/trading-api' }, detectedAt: now(), anomalyStartedAt: now() });
  const steps = [
    { step: 'enable_rate_limiting', def: updateConfig, params: { service: 'trading-api', config: 'rate_limit_enabled=true', rate_limit: '1000 req/s per user' } },
    { step: 'degrade_non_critical', def: featureFlags, params: { disable: ['market_history_api', 'leaderboard_api'], enable: [] } },
  ] as const;
  for (const s of steps) {
    const r = await (s.def.run as (p: unknown, c: unknown) => Promise<{ summary: string; before?: unknown; after?: unknown }>)(s.params, actionContext({ targets: { config: store }, step: s.step, incidentId: incident.id }));
    await appendEvent(dynamo.doc, tables, incident.id, { at: now(), type: 'action', step: s.step, actor: 'agent', summary: r.summary, before: r.before, after: r.after, data: { action: s.def.name, params: s.params } });
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
