/**
 * `sre-agent breaker reset` through the local server (POST /api/breakers/reset) on a LocalEngine
 * in memory: the change is written on the timeline of the open incidents it concerns.
 */
import { listBreakers, recordRemediationAttempt, tripGlobalBreaker, tripServiceBreaker } from '../../lib/breaker';
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

async function post(service?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/breakers/reset`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify({ service, actor: 'cli:alice' }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function reset(service?: string): Promise<{ changes: unknown[]; recordedOn: string[]; note: string }> {
  const { status, body } = await post(service);
  expect(status).toBe(200);
  return body as { changes: unknown[]; recordedOn: string[]; note: string };
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

  it('records nothing when the breaker was not open, and says so', async () => {
    await open('order-consumer');
    await recordRemediationAttempt(engine.doc, engine.tables, {}, at('14:16'), 'order-consumer');

    expect(await reset('order-consumer')).toEqual({ changes: [], recordedOn: [], note: 'the breaker of order-consumer was not open: nothing changed' });
    expect(await reset()).toEqual({ changes: [], recordedOn: [], note: 'the global breaker was not open: nothing changed' });
  });

  it('refuses a service that has no breaker (a misspelt name is not a silent success), naming the ones that have, and writes nothing', async () => {
    // arrange
    await recordRemediationAttempt(engine.doc, engine.tables, {}, at('14:16'), 'order-consumer');
    await tripServiceBreaker(engine.doc, engine.tables, {}, at('14:20'), { service: 'order-consumer', reason: '3 attempts' });
    const before = await listBreakers(engine.doc, engine.tables, {}, at('14:21'));
    // act
    const misspelt = await post('order-consumr');
    // assess
    expect(misspelt.status).toBe(404);
    expect(misspelt.body).toEqual({ name: 'BreakerNotFoundError', error: 'no breaker for service "order-consumr": it has never counted a remediation attempt, so there is nothing to reset (services with a breaker: order-consumer)' });
    expect(await listBreakers(engine.doc, engine.tables, {}, at('14:21'))).toEqual(before);
  });

  it('refuses a service that is not a name', async () => {
    for (const service of ['', 42, ['order-consumer']]) {
      const res = await post(service);
      expect(res).toEqual({ status: 400, body: expect.objectContaining({ error: '"service" must be a service name (omit it for the global breaker)' }) });
    }
  });
});
