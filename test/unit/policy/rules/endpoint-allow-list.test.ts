/** endpoint-allow-list: only allow-listed endpoints, compared in normal form. */
import { facts, findingsOf } from '../../../helpers/step-facts';

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
  ])('lets %s pass (the seed gc endpoint, spelled another way)', (endpoint) => {
    expect(run(endpoint)).toEqual([]);
  });

  it.each([
    ['matching-engine:8081/admin/gc', 'not on the allow-list'],
    ['matching-engine:8080/admin/gc/../params', 'not on the allow-list'],
    ['trading-api:8080/admin/gc', 'not on the allow-list'],
    ['10.0.0.12:8080/admin/gc', 'not on the allow-list'],
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
