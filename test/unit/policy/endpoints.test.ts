/**
 * lib/policy/endpoints.ts directly: the normal form of an endpoint (what is checked is what is
 * called) and every text of a request the blacklist sees (query, JSON, form text, decoded once).
 */
import type { Policy } from '../../../lib/policy';
import { EndpointError, MAX_BODY_DEPTH, requestTexts } from '../../../lib/policy/endpoints';
import { defaultPolicy } from '../../../lib/policy/files';

// Read in each test, not while the file loads: Stryker counts what runs at load as "static" and
// restarts a test process for every mutant it reaches (npm run mutate, stryker.config.json).
let policy: Policy;
beforeEach(() => {
  policy = defaultPolicy();
});

describe('normaliseEndpoint', () => {
  it('reads a URL inside the query as a value, not as the scheme of the endpoint', () => {
    // An unanchored scheme check would parse `matching-engine:` as the scheme and refuse (or misread) the endpoint.
    expect(policy.normaliseEndpoint('matching-engine:8080/admin/gc?next=http://x').url).toBe('http://matching-engine.trading.svc.cluster.local:8080/admin/gc?next=http%3A%2F%2Fx');
  });

  it('takes only a whole dotted quad for an IP address', () => {
    expect(() => policy.normaliseEndpoint('1.2.3.4:8080/admin')).toThrow('host 1.2.3.4 is an IP address');
    expect(() => policy.normaliseEndpoint('1.2.3.4x:8080/admin')).toThrow('endpoint "1.2.3.4x:8080/admin": host 1.2.3.4x is not a service of this cluster');
  });

  it('puts the query in decoded form, keeps empty values, and calls the cluster name', () => {
    expect(policy.normaliseEndpoint(' matching-engine:8080/admin/gc?op=%68alt&x= ')).toEqual({
      url: 'http://matching-engine.trading.svc.cluster.local:8080/admin/gc?op=halt&x=',
      scheme: 'http',
      host: 'matching-engine',
      port: 8080,
      path: '/admin/gc',
      service: 'matching-engine',
      key: 'matching-engine:8080/admin/gc',
      query: [['op', 'halt'], ['x', '']],
    });
  });

  it('uses the scheme default port, shown in the key and left out of the URL', () => {
    expect(policy.normaliseEndpoint('https://matching-engine/admin/gc')).toMatchObject({ url: 'https://matching-engine.trading.svc.cluster.local/admin/gc', port: 443, key: 'matching-engine:443/admin/gc' });
    expect(policy.normaliseEndpoint('matching-engine:80/admin/./gc/x/..')).toMatchObject({ url: 'http://matching-engine.trading.svc.cluster.local/admin/gc', port: 80, key: 'matching-engine:80/admin/gc' });
  });

  it.each([
    ['http://', 'not a URL'],
    ['http://999.1.1.1/x', 'not a URL'],
    ['matching-engine:8080/a/%zz', 'path segment "%zz" is not valid percent-encoding'],
    ['ftp://matching-engine/x', 'scheme ftp is not allowed (http or https)'],
    ['matching-engine:8080/a%252fb', 'path segment "a%252fb" decodes to "a%2fb" (double encoding or a hidden separator)'],
    ['matching-engine:8080/a b', 'control characters, spaces and backslashes are not allowed'],
  ])('refuses %j: %s', (endpoint, why) => {
    let err: unknown;
    try {
      policy.normaliseEndpoint(endpoint);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EndpointError);
    expect(err).toMatchObject({ name: 'EndpointError', message: `endpoint "${endpoint}": ${why}` });
  });
});

describe('requestTexts', () => {
  it("puts each query key and value after the endpoint's key, once, leaving out empty words", () => {
    expect(requestTexts(policy.normaliseEndpoint('matching-engine:8080/admin/gc?op=%68alt&x=&op=halt'), undefined)).toEqual(['matching-engine:8080/admin/gc/op', 'matching-engine:8080/admin/gc/halt', 'matching-engine:8080/admin/gc/x']);
  });

  it('reads a body: keys and strings at every depth, JSON and form text as what they encode, each string decoded once', () => {
    expect(requestTexts(undefined, { a: ['b', { c: 'd=e&f=g' }], h: '{"i":"j"}', k: '%6Bx', l: null, m: 3, n: true, ' ': '' })).toEqual([
      '/a', '/b', '/c', '/d=e&f=g', '/d', '/e', '/f', '/g', '/h', '/{"i":"j"}', '/i', '/j', '/k', '/%6Bx', '/kx', '/l', '/m', '/n', '/ ',
    ]);
    expect(requestTexts(undefined, ' [1, "halt"] ')).toEqual(['/ [1, "halt"] ', '/halt']);
    expect(requestTexts(undefined, 'not json { x')).toEqual(['/not json { x']);
    expect(requestTexts(undefined, '{broken')).toEqual(['/{broken']);
    expect(requestTexts(undefined, 'a+b=c')).toEqual(['/a+b=c', '/a b=c', '/a b', '/c']);
    expect(requestTexts(undefined, '%E0%A4%A')).toEqual(['/%E0%A4%A']);
  });

  it(`reads a body nested ${MAX_BODY_DEPTH} deep, and refuses one nested deeper unread`, () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_BODY_DEPTH; i += 1) deep = [deep];
    expect(requestTexts(undefined, deep)).toEqual(['/x']);
    expect(() => requestTexts(undefined, [deep])).toThrow(`endpoint "(request body)": nested deeper than ${MAX_BODY_DEPTH} levels: it is not read, so it is not sent`);
    let objects: unknown = 'x';
    for (let i = 0; i <= MAX_BODY_DEPTH; i += 1) objects = { k: objects };
    expect(() => requestTexts(undefined, objects)).toThrow(EndpointError);
    let strings = '"x"';
    for (let i = 0; i <= MAX_BODY_DEPTH; i += 1) strings = JSON.stringify([JSON.parse(strings)]);
    expect(() => requestTexts(undefined, strings)).toThrow(EndpointError);
  });
});

describe('requestTexts: prose is not a form', () => {
  it('reads a string as form fields only when it starts with key=', () => {
    // An unanchored form check would split `restart now, ratio=2` into a key and a value.
    expect(requestTexts(undefined, 'restart now, ratio=2')).toEqual(['/restart now, ratio=2']);
    expect(requestTexts(undefined, 'op=halt')).toEqual(['/op=halt', '/op', '/halt']);
  });
});
