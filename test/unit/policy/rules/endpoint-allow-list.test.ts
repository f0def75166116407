/** endpoint-allow-list: only allow-listed endpoints, compared in normal form. */
import type { Policy } from '../../../../lib/policy';
import { facts, findingsOf } from '../../../helpers/step-facts';
import { defaultPolicy } from '../../../../lib/policy/files';

const RULE = 'endpoint-allow-list';
const run = (endpoint: string, phase: 'compile' | 'runtime' = 'runtime') => findingsOf(RULE, facts('api_call', { endpoint, method: 'POST' }), phase);

describe(RULE, () => {
  it.each([
    'matching-engine:8080/admin/gc',
    'MATCHING-ENGINE:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local:8080/admin/gc',
    'matching-engine:8080//admin/./gc',
    'matching-engine:8080/admin/x/../gc',
    'matching-engine:8080/%61dmin/gc',
    'matching-engine.trading:8080/admin/gc',
    'matching-engine.trading.svc:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local.:8080/admin/gc',
    'matching_engine:8080/admin/gc?pair=BTC-USDT',
  ])('lets %s pass (the seed gc endpoint, spelled another way)', (endpoint) => {
    expect(run(endpoint)).toEqual([]);
  });

  it.each([
    ['matching-engine:8081/admin/gc', 'not on the allow-list'],
    ['matching-engine:8080/admin/gc/../params', 'not on the allow-list'],
    ['trading-api:8080/admin/gc', 'not on the allow-list'],
    ['10.0.0.12:8080/admin/gc', 'host 10.0.0.12 is an IP address'],
    ['http://[fd00::1]:8080/admin/gc', 'is an IP address'],
    ['http://matching-engine.attacker.example:8080/admin/gc', 'host matching-engine.attacker.example is not a service of this cluster'],
    ['matching-engine.evil.com.:8080/admin/gc', 'host matching-engine.evil.com is not a service of this cluster'],
    ['matching-engine.trading.svc.cluster.local.evil.com:8080/admin/gc', 'not a service of this cluster'],
    ['matching-engine.trading.svc.cluster:8080/admin/gc', 'not a service of this cluster'],
    ['matching-engine.wallet:8080/admin/gc', 'names namespace wallet, but matching-engine runs in trading'],
    ['gc-helper.trading:8080/admin/gc', 'names "gc-helper", which is not a service of playbooks/services.yaml'],
    ['redis-cache.default:8080/admin/gc', 'redis-cache does not run on Kubernetes'],
    ['matching-engine:8080/admin/gc?op=%2568alt', 'query parameter "op" decodes to "%68alt"'],
    ['matching-engine:8080/admin/gc?op=%0Ahalt', 'control character'],
    ['matching-engine:8080/admin/%252e%252e/params', 'double encoding'],
    ['http://user:pw@matching-engine:8080/admin/gc', 'credentials'],
    ['ftp://matching-engine/admin/gc', 'scheme ftp'],
    ['matching-engine:8080/admin\\gc', 'backslashes'],
  ])('refuses %s (%s)', (endpoint, why) => {
    expect(run(endpoint).map((f) => f.message).join('; ')).toContain(why);
  });

  it('leaves a {{template}} for run time, and refuses it there if still unresolved', () => {
    expect(run('{{endpoint}}', 'compile')).toEqual([]);
    expect(run('{{endpoint}}', 'runtime')).toHaveLength(1);
  });
});

describe(`${RULE}: the URL called`, () => {
  // Read in each test, not while the file loads (Stryker: see test/unit/policy/endpoints.test.ts).
  let policy: Policy;
  beforeEach(() => {
    policy = defaultPolicy();
  });
  it.each([
    ['matching-engine:8080/admin/gc', 'http://matching-engine.trading.svc.cluster.local:8080/admin/gc'],
    ['https://Matching-Engine.trading.svc:8443//admin/./gc', 'https://matching-engine.trading.svc.cluster.local:8443/admin/gc'],
    ['matching-engine:8080/admin/gc?pair=BTC%2DUSDT&mode=young', 'http://matching-engine.trading.svc.cluster.local:8080/admin/gc?pair=BTC-USDT&mode=young'],
    ['gc-helper:80/x', 'http://gc-helper/x'],
  ])('%s is called as %s (a mapped service by its cluster DNS name, the query as decoded)', (endpoint, url) => {
    expect(policy.normaliseEndpoint(endpoint).url).toBe(url);
  });

  it('keeps the decoded query and names the service by identity', () => {
    expect(policy.normaliseEndpoint('MATCHING-ENGINE.trading:8080/admin/gc?op=%68alt')).toMatchObject({ service: 'matching-engine', key: 'matching-engine:8080/admin/gc', query: [['op', 'halt']] });
  });
});
