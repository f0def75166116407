/**
 * Status page publishers against a local HTTP server answering as Atlassian Statuspage documents
 * (https://developer.statuspage.io/#operation/postPagesPageIdIncidents) and as a generic webhook.
 */
import { AtlassianStatuspage, draftNotice, StatusPageError, TransientStatusPageError, WebhookStatusPage } from '../../lib/notify/status-page';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder';

let http: HttpRecorder;
const startedAt = new Date('2026-02-09T14:15:00Z');
const components = [{ zh: '现货交易', en: 'Spot trading', id: 'cmp-spot' }, { zh: '行情推送', en: 'Market data' }];
const first = draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt, phase: 'investigating', components });
const resolved = draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt, phase: 'resolved', components, resolvedAt: new Date('2026-02-09T14:38:00Z') });

beforeAll(async () => {
  http = await startRecorder();
});
afterAll(() => http.close());
beforeEach(() => {
  http.requests.length = 0;
});

describe('AtlassianStatuspage', () => {
  const page = () => new AtlassianStatuspage({ pageId: 'kctbh9vrtdwd', apiKey: 'key-123', baseUrl: http.url });

  it('creates an incident with both languages, its impact and the components that have ids, then updates the same one', async () => {
    // prepare
    http.respond((req) => (req.method === 'POST' ? { status: 201, body: { id: 'p31zjtct2jer', shortlink: 'https://stspg.io/abc', status: 'investigating' } } : { status: 200, body: { id: 'p31zjtct2jer', status: 'resolved' } }));
    // act
    const published = await page().publish(first);
    const updated = await page().publish(resolved, published);
    // assess
    expect(published).toEqual({ id: 'p31zjtct2jer', url: 'https://stspg.io/abc' });
    expect(updated).toEqual(published);
    const [create, update] = http.requests;
    expect(create).toMatchObject({ method: 'POST', path: '/v1/pages/kctbh9vrtdwd/incidents' });
    expect(create!.headers.authorization).toBe('OAuth key-123');
    expect(create!.json).toEqual({
      incident: {
        name: '现货交易、行情推送出现异常 / Degraded service: Spot trading and Market data',
        status: 'investigating',
        body: `${first.zh.body}\n\n${first.en.body}`,
        impact_override: 'major',
        deliver_notifications: true,
        component_ids: ['cmp-spot'],
        components: { 'cmp-spot': 'partial_outage' },
      },
    });
    expect(update).toMatchObject({ method: 'PATCH', path: '/v1/pages/kctbh9vrtdwd/incidents/p31zjtct2jer' });
    expect((update!.json as { incident: { status: string; components: unknown } }).incident).toMatchObject({ status: 'resolved', components: { 'cmp-spot': 'operational' } });
  });

  it.each([
    [503, TransientStatusPageError],
    [429, TransientStatusPageError],
    [401, StatusPageError],
  ])('an answer %s is a %p naming the page', async (status, type) => {
    http.respond(() => ({ status, body: { error: 'nope' } }));
    const attempt = page().publish(first);
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toThrow(`statuspage:kctbh9vrtdwd: ${http.url}/v1/pages/kctbh9vrtdwd/incidents answered ${status}`);
  });

  it('a created incident without an id is an error, not a silent success', async () => {
    http.respond(() => ({ status: 201, body: {} }));
    await expect(page().publish(first)).rejects.toThrow('statuspage:kctbh9vrtdwd: the incident was created without an id in the answer');
  });
});

describe('WebhookStatusPage', () => {
  it('posts the notice and the id of the one it updates; the incident id names it when the hook answers none', async () => {
    http.respond(() => ({ status: 200, body: 'ok' }));
    const hook = new WebhookStatusPage({ url: `${http.url}/status` });
    const published = await hook.publish(first);
    await hook.publish(resolved, published);
    expect(published).toEqual({ id: 'INC-20260209-001' });
    expect(http.to('/status').map((r) => r.json)).toEqual([{ notice: first, previousId: null }, { notice: resolved, previousId: 'INC-20260209-001' }]);
  });

  it('a network failure is transient, naming the address', async () => {
    const hook = new WebhookStatusPage({ url: 'http://127.0.0.1:9/status', timeoutMs: 1000 });
    await expect(hook.publish(first)).rejects.toMatchObject({ name: 'TransientStatusPageError', target: 'http://127.0.0.1:9/status' });
  });
});
