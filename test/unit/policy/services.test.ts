/** The service map: entries with defaults, and services recognised by identity, not spelling. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseServiceRef, type ServiceMap } from '../../../lib/policy';
import { PlaybookError } from '../../../lib/yaml';
import { defaultPolicy, loadServiceMap } from '../../../lib/policy/files';

describe('ServiceMap', () => {
  // Read in each test, not while the file loads (Stryker: see endpoints.test.ts).
  let map: ServiceMap;
  beforeEach(() => {
    map = defaultPolicy().services;
  });

  describe('Method: identify', () => {
    it.each([
      'matching-engine',
      'MATCHING-ENGINE',
      'Matching-Engine:8080',
      'matching_engine',
      'matching-engine.trading',
      'matching-engine.trading.svc',
      'matching-engine.trading.svc.cluster.local',
      'matching-engine.trading.svc.cluster.local.',
      'matching-engine:8080/admin/gc',
      'matching-engine.trading.svc.cluster.local:8080/admin/gc',
      'http://matching-engine:8080/admin/gc',
      'https://user@MATCHING-ENGINE.trading.svc:443/x?y=1',
      'trading/matching-engine',
      'deployment/matching-engine',
      'deployments.apps/matching-engine',
      'deploy/matching-engine',
      'trading/deployment/matching-engine',
      '/matching-engine/',
      'ｍａｔｃｈｉｎｇ-ｅｎｇｉｎｅ', // full-width letters
      'matching\u200b-engine', // a zero-width space
      ' matching-engine ',
    ])('recognises %j as the matching engine', (ref) => {
      expect(map.identify(ref).service).toBe('matching-engine');
      expect(defaultPolicy().isMatchingEngine(ref)).toBe(true);
      expect(defaultPolicy().isProtected(ref)).toBe(true);
    });

    it.each(['wallet-service.wallet.svc.cluster.local', 'WALLET_SERVICE:9000', 'wallet/wallet-service', 'settlement-service.settlement:8443/api'])(
      'recognises %j as a protected service',
      (ref) => expect(defaultPolicy().isProtected(ref)).toBe(true),
    );

    it.each(['trading-api', 'trading-api.trading.svc.cluster.local:8080', 'deployment/order-service', 'matching-engine-canary', 'engine', '10.0.0.12:8080'])(
      'does not take %j for a protected service',
      (ref) => expect(defaultPolicy().isProtected(ref)).toBe(false),
    );

    it('keeps the namespace a reference spells out', () => {
      expect(map.identify('trading/matching-engine')).toEqual({ name: 'matching-engine', namespace: 'trading', service: 'matching-engine' });
      expect(map.identify('api.trading.svc.cluster.local')).toEqual({ name: 'api', namespace: 'trading' });
    });
  });

  describe('Method: entry', () => {
    it('fills the deployment and namespace defaults', () => {
      expect(map.entry('trading-api')).toMatchObject({ namespace: 'trading', deployment: 'trading-api', databaseUsers: ['trading_api'] });
      expect(map.entry('not-in-the-map')).toMatchObject({ namespace: 'default', deployment: 'not-in-the-map', kubernetes: true });
    });

    it('maps database users and consumer groups back to services', () => {
      expect(map.serviceOfDatabaseUser('ORDER_SVC')).toBe('order-service');
      expect(map.serviceOfConsumerGroup('order-events')).toBe('order-consumer');
      expect(map.serviceOfDatabaseUser('nobody')).toBeUndefined();
    });
  });

  describe('Function: parseServiceRef', () => {
    it('reads name and namespace from the Kubernetes spellings', () => {
      expect(parseServiceRef('svc/x')).toEqual({ name: 'x' });
      expect(parseServiceRef('ns/x')).toEqual({ name: 'x', namespace: 'ns' });
      expect(parseServiceRef('x.ns.svc.cluster.local:80')).toEqual({ name: 'x', namespace: 'ns' });
      expect(parseServiceRef('[::1]:8080')).toEqual({ name: '::1' });
    });

    it.each([
      // A trailing dot before the port is the same host, with no namespace.
      ['matching-engine.:8080/admin', { name: 'matching-engine' }],
      // Slashes around and doubled between the parts of `namespace/name` do not change it.
      ['//trading//matching-engine//', { name: 'matching-engine', namespace: 'trading' }],
      // Only an all-digit dotted host is an address; `svc.10` is a name and a namespace.
      ['svc.10:80/admin', { name: 'svc', namespace: '10' }],
      ['10.x:80/admin', { name: '10', namespace: 'x' }],
      ['10.0.0.12:8080/admin', { name: '10.0.0.12' }],
      // A port that is not all digits, or brackets not around the whole host, are not stripped: the result names no service.
      ['matching-engine:80x/admin', { name: 'matching-engine:80x' }],
      ['x[::1]:80/admin', { name: 'x[::1]' }],
      ['[::1]:80x/admin', { name: '[::1]:80x' }],
      // A kind alone names itself.
      ['deployment/', { name: 'deployment' }],
    ])('reads %j as exactly %j', (ref, expected) => {
      expect(parseServiceRef(ref)).toStrictEqual(expected);
    });
  });

  describe('Function: loadServiceMap', () => {
    it('names the file, line and field of a bad entry', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'services-'));
      const file = path.join(dir, 'services.yaml');
      fs.writeFileSync(file, 'services:\n  trading-api:\n    namespace: Trading_NS\n');
      expect(() => loadServiceMap(file)).toThrow(PlaybookError);
      expect(() => loadServiceMap(file)).toThrow(`${file}:3:16: services.trading-api.namespace: a Kubernetes name`);
    });
  });
});
