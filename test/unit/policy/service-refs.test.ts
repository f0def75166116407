/**
 * How a service reference is read (parseServiceRef) and identified by a map each test builds
 * itself (createServiceMap: the default map is cached, so its closures would be built once).
 */
import { createServiceMap, emptyServiceMap, parseServiceRef } from '../../../lib/policy';

describe('parseServiceRef', () => {
  it.each([
    ['matching-engine', { name: 'matching-engine' }],
    ['Matching_Engine.', { name: 'matching-engine' }],
    ['trading/matching-engine', { name: 'matching-engine', namespace: 'trading' }],
    ['/trading/deployment/matching-engine/', { name: 'matching-engine', namespace: 'trading' }],
    ['deployment/matching-engine', { name: 'matching-engine' }],
    ['deployment', { name: 'deployment' }],
    ['matching-engine:8080', { name: 'matching-engine' }],
    ['matching-engine:', { name: 'matching-engine' }],
    ['matching-engine.trading.svc.cluster.local.:8080', { name: 'matching-engine', namespace: 'trading' }],
    ['matching-engine.trading:8080/admin/gc', { name: 'matching-engine', namespace: 'trading' }],
    ['http://user@matching-engine.trading.svc:8080/admin?x#y', { name: 'matching-engine', namespace: 'trading' }],
    ['HTTPS://[::1]:8443/x', { name: '::1' }],
    ['http://[fe80::1]/x', { name: 'fe80::1' }],
    ['http://10.0.0.5:8080/x', { name: '10.0.0.5' }],
    ['10.0.0.5', { name: '10.0.0.5' }],
    ['other/matching-engine.trading:8080', { name: 'matching-engine', namespace: 'other' }],
    ['ns/svc.x', { name: 'svc', namespace: 'ns' }],
    ['svc.x/y', { name: 'svc', namespace: 'x' }],
    ['ｍatching\u200b-engine', { name: 'matching-engine' }],
  ])('%j spells %j', (ref, expected) => {
    expect(parseServiceRef(ref)).toEqual(expected);
  });
});

describe('createServiceMap', () => {
  const map = () =>
    createServiceMap({
      services: {
        'matching-engine': { kubernetes: true, namespace: 'trading', deployment: 'me-core', containers: ['engine'], database_users: ['ME_App'], consumer_groups: ['me-orders'] },
        'wallet-db': { kubernetes: false, namespace: 'wallet', containers: [], database_users: [], consumer_groups: [] },
      },
    } as never, 'services.yaml');

  it('identifies a service by its name or its deployment, keeping the namespace spelled', () => {
    const m = map();
    expect(m.identify('ME-CORE')).toEqual({ name: 'matching-engine', service: 'matching-engine' });
    expect(m.identify('trading/matching-engine')).toEqual({ name: 'matching-engine', namespace: 'trading', service: 'matching-engine' });
    expect(m.identify('unknown-svc')).toEqual({ name: 'unknown-svc' });
    expect(m.identify('wallet-db')).toEqual({ name: 'wallet-db', service: 'wallet-db' });
    expect(m.file).toBe('services.yaml');
  });

  it('does not take the default deployment name of a service outside Kubernetes as its identity', () => {
    expect(map().entry('wallet-db')).toMatchObject({ deployment: 'wallet-db', kubernetes: false });
    expect(map().entry('matching-engine')).toEqual({ name: 'matching-engine', kubernetes: true, namespace: 'trading', deployment: 'me-core', containers: ['engine'], databaseUsers: ['ME_App'], consumerGroups: ['me-orders'] });
  });

  it('finds the service of a database user (any case) and of a consumer group (exact)', () => {
    const m = map();
    expect(m.serviceOfDatabaseUser('me_app')).toBe('matching-engine');
    expect(m.serviceOfDatabaseUser('ME_APP')).toBe('matching-engine');
    expect(m.serviceOfDatabaseUser('other')).toBeUndefined();
    expect(m.serviceOfConsumerGroup('me-orders')).toBe('matching-engine');
    expect(m.serviceOfConsumerGroup('ME-ORDERS')).toBeUndefined();
  });

  it('gives an unmapped service a default entry: its own deployment in default', () => {
    expect(emptyServiceMap().entry('x')).toEqual({ name: 'x', kubernetes: true, namespace: 'default', deployment: 'x', containers: [], databaseUsers: [], consumerGroups: [] });
    expect(emptyServiceMap().file).toBe('<inline>');
  });
});
