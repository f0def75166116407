/**
 * `sre-agent breaker reset` through the local server (POST /api/breakers/reset) on a LocalEngine
 * in memory: the change is written on the timeline of the open incidents it concerns.
 */
import { tripGlobalBreaker, tripServiceBreaker } from '../../lib/breaker';
import { getTimeline, openOrJoinIncident, transitionIncident, type OpenIncidentInput } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { startServer, type LocalServer } from '../../lib/local/server';

let engine: LocalEngine;
let server: LocalServer;

beforeEach(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: false }).start();
  server = await startServer(engine, { port: 0 });
});

afterEach(async () => {
  await server.close();
  await engine.stop();
});

const at = (hhmm: string) => new Date(`2026-02-09T${hhmm}:00.000Z`);

async function open(service: string, playbook = 'kafka-consumer-lag'): Promise<string> {
  const input: OpenIncidentInput = { playbook, service, severity: 'MEDIUM', alarm: { name: `sre-agent/${playbook}/${service}/lag` }, detectedAt: at('14:15'), anomalyStartedAt: at('14:10') };
  return (await openOrJoinIncident(engine.doc, engine.tables, input)).incident.id;
}

async function reset(service?: string): Promise<{ changes: unknown[]; recordedOn: string[] }> {
  const res = await fetch(`${server.url}/api/breakers/reset`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify({ service, actor: 'cli:alice' }) });
  expect(res.status).toBe(200);
  return (await res.json()) as { changes: unknown[]; recordedOn: string[] };
}

const breakerEvents = async (id: string) => (await getTimeline(engine.doc, engine.tables, id)).filter((e) => e.type === 'breaker_changed');

describe('POST /api/breakers/reset', () => {
  it("writes a service breaker's reset on that service's open incidents only", async () => {
    const mine = await open('order-consumer');
    const other = await open('payment-consumer');
    await tripServiceBreaker(engine.doc, engine.tables, {}, at('14:20'), { service: 'order-consumer', reason: '3 attempts in 1 h without recovery' });

    const out = await reset('order-consumer');

    expect(out.recordedOn).toEqual([mine]);
    expect((await breakerEvents(mine)).map((e) => e.summary)).toEqual([expect.stringMatching(/^breaker of order-consumer OPEN → CLOSED: .*cli:alice/)]);
    expect(await breakerEvents(other)).toEqual([]);
  });

  it("writes the global breaker's reset on every open incident, not on resolved ones", async () => {
    const a = await open('order-consumer');
    const b = await open('payment-consumer');
    const done = await open('ledger-consumer');
    await transitionIncident(engine.doc, engine.tables, done, 'RESOLVED', at('14:30'));
    await tripGlobalBreaker(engine.doc, engine.tables, {}, at('14:20'), { reason: '6 HIGH anomalies active' });

    const out = await reset();

    expect(out.recordedOn.sort()).toEqual([a, b].sort());
    expect(await breakerEvents(done)).toEqual([]);
  });

  it('records nothing when the breaker was not open', async () => {
    await open('order-consumer');

    expect(await reset('order-consumer')).toEqual({ changes: [], recordedOn: [] });
  });
});
