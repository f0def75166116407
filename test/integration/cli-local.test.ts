/**
 * The CLI against a running local engine (`startLocal`, in memory, port picked by the system),
 * and the JSON API behind it: the commands a newcomer runs after `npm start` (alarm, incidents,
 * timeline, metric put, breaker list/reset), and `start` itself with `--breakers`.
 */
import { run } from '../../bin/cli';
import { parseBreakersOption, startLocal, type RunningAgent } from '../../lib/local/main';

let agent: RunningAgent;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(['node', 'sre-agent', ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const withUrl = (...args: string[]) => cli(...args, '--url', agent.url);

/** The points of a metric stored in the last minute (values in the catalogue's base unit). */
/** The points stored for a metric (npm start's store also reports the latest value as still current: that is not stored). */
const recent = async (name: string, service: string) => {
  const stored = agent.engine.metrics.toJSON().series.filter((s) => s.metric === name && (s.service === undefined || s.service === service));
  return stored.flatMap((s) => s.points).filter((p) => Date.parse(p.at) >= Date.now() - 60_000);
};

beforeAll(async () => {
  agent = await startLocal({ port: 0, speedUp: 600, log: () => undefined });
});

afterAll(async () => {
  await agent.stop();
});

describe('sre-agent CLI on a running local engine', () => {
  it('alarm posts a realistic event for a playbook; incidents and timeline show the incident it opened', async () => {
    // act
    const alarm = await withUrl('alarm', 'kafka-consumer-lag', '--service', 'order-consumer');
    // assess
    expect(alarm).toMatchObject({ code: 0, err: '' });
    const { results } = JSON.parse(alarm.out) as { results: { outcome: string; incidentId: string }[] };
    expect(results).toEqual([expect.objectContaining({ outcome: 'started', incidentId: expect.stringMatching(/^INC-\d{8}-\d{3}$/) })]);
    const id = results[0]!.incidentId;
    const incidents = JSON.parse((await withUrl('incidents')).out) as { id: string; service: string; playbook: string }[];
    expect(incidents).toContainEqual(expect.objectContaining({ id, service: 'order-consumer', playbook: 'kafka-consumer-lag' }));
    const timeline = JSON.parse((await withUrl('timeline', id)).out) as { incident: { id: string }; timeline: { type: string }[] };
    expect(timeline.incident.id).toBe(id);
    expect(timeline.timeline[0]?.type).toBe('incident_opened');
  });

  it('alarm names what is wrong: an unknown playbook, a bad --state', async () => {
    expect(await withUrl('alarm', 'no-such-playbook')).toMatchObject({ code: 1, err: expect.stringMatching(/^sre-agent: no playbook "no-such-playbook" in the compiled manifest \(names: certificate-expiry-warning, .*traffic-surge\)\n$/) });
    expect((await withUrl('alarm', 'kafka-consumer-lag', '--state', 'BROKEN')).err).toContain('--state must be ALARM, OK or INSUFFICIENT_DATA, got "BROKEN"');
    expect(await withUrl('alarm', 'certificate-expiry-warning')).toMatchObject({ code: 1, err: 'sre-agent: playbook certificate-expiry-warning is started by its schedule (cron(0 1 * * ? *)), not by an alarm: start it now with `sre-agent run certificate-expiry-warning`\n' });
  });

  it('metric put records a value in the local metric store, and refuses one that is not a number or not in the catalogue', async () => {
    // act
    const put = await withUrl('metric', 'put', 'redis_memory_usage', '91');
    const notANumber = await withUrl('metric', 'put', 'redis_memory_usage', 'ninety');
    const unknown = await withUrl('metric', 'put', 'no_such_metric', '1');
    // assess
    expect(put.code).toBe(0);
    expect((await recent('redis_memory_usage', 'redis-cache')).map((p) => p.value)).toEqual([0.91]); // 91 Percent, kept as a fraction
    expect(notANumber).toMatchObject({ code: 1, err: 'sre-agent: value "ninety" is not a number\n' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/POST \/api\/metrics → 400: .*no_such_metric/);
  });

  it('breaker list shows the global breaker closed; breaker reset says what changed (nothing when closed)', async () => {
    const list = JSON.parse((await withUrl('breaker', 'list')).out) as { scope: string; state: string }[];
    expect(list[0]).toMatchObject({ scope: 'global', state: 'CLOSED' });
    const reset = JSON.parse((await withUrl('breaker', 'reset', '--as', 'alice')).out) as { changes: unknown[]; recordedOn: unknown[] };
    expect(reset).toEqual({ changes: [], recordedOn: [], note: 'the global breaker was not open: nothing changed' });
    const unknown = await withUrl('breaker', 'reset', 'no-such-service');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^sre-agent: POST \/api\/breakers\/reset → 404: .*no breaker for service \\"no-such-service\\"/);
  });

  it('says where it could not reach the engine', async () => {
    const r = await cli('incidents', '--url', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot reach the local engine at http://127.0.0.1:9 (is `npm start` running?)');
  });
});

describe('the JSON API', () => {
  it('answers a bad event with 400 and its dead-letter reason, and an unknown incident with 404', async () => {
    const bad = await fetch(`${agent.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` }, body: JSON.stringify({ detail: {} }) });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { results: { outcome: string; reason: string }[] };
    expect(body.results[0]).toMatchObject({ outcome: 'dead_letter', reason: expect.stringContaining('malformed alarm event') });
    const missing = await fetch(`${agent.url}/api/incidents/INC-20260209-999`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ name: 'IncidentNotFoundError' });
  });

  it('takes PutMetricData-shaped data on POST /api/metrics', async () => {
    const res = await fetch(`${agent.url}/api/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` },
      body: JSON.stringify({ MetricData: [{ MetricName: 'api_latency_p99', Value: 350, Unit: 'Milliseconds', Dimensions: [{ Name: 'service', Value: 'trading-api' }] }] }),
    });
    expect(res.status).toBe(202);
    expect((await recent('api_latency_p99', 'trading-api')).map((p) => p.value)).toEqual([0.35]); // 350 Milliseconds, kept in seconds
  });
});

describe('sre-agent start --breakers', () => {
  it('starts with the thresholds given and says so', async () => {
    const r = await cli('start', '--memory', '--port', '0', '--once', '--breakers', '{"coolDownSeconds":60}');
    expect(r.code).toBe(0);
    expect(r.out).toContain('breakers: cool-down 60 s, service limit 3 attempts / 3600 s');
  });

  it('refuses thresholds that are not JSON or not valid, naming the field, before it starts anything', async () => {
    expect(() => parseBreakersOption('{cool')).toThrow(/^--breakers: not JSON/);
    expect(() => parseBreakersOption('{"coolDownSeconds":-5}')).toThrow(/^--breakers: .*coolDownSeconds/);
    const r = await cli('start', '--memory', '--port', '0', '--once', '--breakers', '{"coolDown":60}');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--breakers: .*coolDown/);
  });
});
