/**
 * The status page's configuration: the shipped component map, bad files named by file:line and
 * field, and the publisher the environment configures (never half-configured in silence).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { statusPublisherFromEnv } from '../../../lib/runtime/status-page-config';
import { componentsFor, noticeBinding } from '../../../lib/runtime/status-notice';
import { draftNotice } from '../../../lib/notify/status-page';
import { loadStatusComponents } from '../../../lib/runtime/status-page-file';
import { loadServiceMap } from '../../../lib/policy/files';

const dir = mkdtempSync(path.join(tmpdir(), 'status-page-'));
function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('status-page.yaml', () => {
  it('ships a user-facing feature for every service of the service map except the platform itself', () => {
    const map = loadStatusComponents();
    const services = Object.keys(loadServiceMap().services).filter((s) => s !== 'platform');
    expect(Object.keys(map).sort()).toEqual(services.sort());
  });

  it('names the file, line and field of a bad entry', () => {
    const f = file('bad.yaml', 'components:\n  trading-api:\n    - { zh: 现货交易 }\n  Bad_Name:\n    - { zh: a, en: b }\n');
    expect(() => loadStatusComponents(f)).toThrow(/bad\.yaml:3:\d+.*en/s);
    expect(() => loadStatusComponents(f)).toThrow(/bad\.yaml:\d+:\d+: .*"Bad_Name" is not a service name/s);
  });

  it('refuses unknown fields and an empty feature list', () => {
    expect(() => loadStatusComponents(file('extra.yaml', 'components:\n  trading-api:\n    - { zh: a, en: b, colour: red }\n'))).toThrow(/extra\.yaml:3:\d+/);
    expect(() => loadStatusComponents(file('empty.yaml', 'components:\n  trading-api: []\n'))).toThrow(/empty\.yaml:2:\d+/);
  });

  it('is empty when there is no file, and then names "some services", never the service', () => {
    const map = loadStatusComponents(path.join(dir, 'absent.yaml'));
    expect(map).toEqual({});
    expect(componentsFor(map, 'trading-api')).toEqual([{ zh: '部分服务', en: 'Some services' }]);
  });
});

describe('the publisher from the environment', () => {
  it('is none by default, a webhook or Statuspage when configured', () => {
    expect(statusPublisherFromEnv({})).toBeUndefined();
    expect(statusPublisherFromEnv({ SRE_AGENT_STATUS_WEBHOOK_URL: 'https://status.example/hook' })?.name).toBe('webhook:status.example');
    expect(statusPublisherFromEnv({ SRE_AGENT_STATUSPAGE_PAGE_ID: 'kctbh9vrtdwd', SRE_AGENT_STATUSPAGE_API_KEY: 'k' })?.name).toBe('statuspage:kctbh9vrtdwd');
  });

  it('refuses a page id without its key, naming both variables', () => {
    expect(() => statusPublisherFromEnv({ SRE_AGENT_STATUSPAGE_PAGE_ID: 'kctbh9vrtdwd' })).toThrow(/SRE_AGENT_STATUSPAGE_API_KEY or SRE_AGENT_STATUSPAGE_API_KEY_SECRET/);
  });

  it('reads the key from Secrets Manager only when a notice goes out, and names a missing secret', async () => {
    const reads: string[] = [];
    const publisher = statusPublisherFromEnv({ SRE_AGENT_STATUSPAGE_PAGE_ID: 'kctbh9vrtdwd', SRE_AGENT_STATUSPAGE_API_KEY_SECRET: 'sre-agent/statuspage-api-key' }, async (id) => {
      reads.push(id);
      return undefined;
    })!;
    expect(reads).toEqual([]);
    const notice = draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt: new Date('2026-02-09T14:00:00Z'), phase: 'investigating', components: [{ zh: '现货交易', en: 'Spot trading' }] });
    await expect(publisher.publish(notice)).rejects.toThrow(/kctbh9vrtdwd: its API key is not set/);
    expect(reads).toEqual(['sre-agent/statuspage-api-key']);
  });
});

describe('the binding of a notice', () => {
  it('changes with any word of the notice, and names the service', () => {
    const a = draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt: new Date('2026-02-09T14:00:00Z'), phase: 'investigating', components: [{ zh: '现货交易', en: 'Spot trading' }] });
    const b = { ...a, en: { ...a.en, body: `${a.en.body} ` } };
    expect(noticeBinding(a, 'trading-api')).toMatchObject({ action: 'publish_status_notice', target: 'status-page:trading-api' });
    expect(noticeBinding(a, 'trading-api').paramsHash).not.toBe(noticeBinding(b, 'trading-api').paramsHash);
  });
});
