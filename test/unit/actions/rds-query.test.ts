/** Unit tests of rds_query's policy checks (classify, checkCaps) and leak detection; no database. */
import { action, findLeakingUser, type RdsQueryParams } from '../../../lib/actions/rds_query';
import { createPolicy, loadPolicy } from '../../../lib/policy';

const policy = loadPolicy();
const IDLE = "SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300";
const classify = (p: RdsQueryParams) => action.classify?.(p, policy) ?? [];
const checkCaps = (p: RdsQueryParams) => action.checkCaps?.(p, policy) ?? [];

describe('rds_query', () => {
  describe('Method: classify', () => {
    it('accepts the seed kill_idle_connections step', () => {
      expect(classify({ query: IDLE, follow_up: 'KILL {id}', max_kills: 50 })).toEqual([]);
    });

    it.each([
      ['UPDATE users SET balance = 0', 'UPDATE'],
      ['delete from orders', 'DELETE'],
      ['DROP TABLE t', 'DROP'],
      ['  insert into t values (1)', 'INSERT'],
      ['SET GLOBAL max_connections = 1', 'SET'],
    ])('flags %s as database_writes naming the verb', (query, verb) => {
      const hits = classify({ query });
      expect(hits).toHaveLength(1);
      expect(hits[0]?.category).toBe('database_writes');
      expect(hits[0]?.reason).toContain(verb);
    });

    it('flags a writing follow_up', () => {
      expect(classify({ query: IDLE, follow_up: 'DELETE FROM sessions WHERE id = {id}' })).toEqual([
        expect.objectContaining({ category: 'database_writes', reason: expect.stringContaining('follow_up: SQL verb DELETE') }),
      ]);
    });

    it.each([
      'SELECT 1; DROP TABLE users',
      'SELECT 1;DELETE FROM orders',
      "SELECT id FROM t WHERE info = 'a'; SELECT 2",
    ])('flags multi-statement SQL: %s', (query) => {
      expect(classify({ query }).map((h) => h.category)).toContain('database_writes');
    });

    it('allows one trailing semicolon', () => {
      expect(classify({ query: `${IDLE};  \n` })).toEqual([]);
    });
  });

  describe('Method: checkCaps', () => {
    it('is empty within the caps', () => {
      expect(checkCaps({ query: IDLE, follow_up: 'KILL {id}', max_kills: 50 })).toEqual([]);
      expect(checkCaps({ query: IDLE, follow_up: 'KILL CONNECTION {id}' })).toEqual([]);
    });

    it('names both numbers when max_kills is over the policy cap', () => {
      expect(checkCaps({ query: IDLE, max_kills: 51 })).toEqual(['max_kills 51 is over the policy cap of 50']);
    });

    it('follows the policy it is given', () => {
      const strict = createPolicy({ ...policy.document, caps: { ...policy.caps, max_kills: 3 } });
      expect(action.checkCaps?.({ query: IDLE, max_kills: 4 }, strict)).toEqual(['max_kills 4 is over the policy cap of 3']);
    });

    it.each(['SHOW {id}', 'KILL 42', 'KILL {id} ; KILL {other}', 'SELECT {id}'])('refuses follow_up %s', (follow_up) => {
      expect(checkCaps({ query: IDLE, follow_up })).toEqual([expect.stringContaining('follow_up must be "KILL {column}"')]);
    });

    it('refuses a KILL in query, where max_kills would not apply', () => {
      expect(checkCaps({ query: 'KILL 42' })).toEqual([expect.stringContaining('kills go through follow_up')]);
    });
  });

  describe('Function: findLeakingUser', () => {
    it('names the user holding more than half of the connections', () => {
      expect(findLeakingUser({ order_svc: 60, api: 30, 'system user': 200 })).toBe('order_svc');
    });

    it('is null when no user holds more than half', () => {
      expect(findLeakingUser({ order_svc: 50, api: 50 })).toBeNull();
      expect(findLeakingUser({})).toBeNull();
    });
  });

  describe('Definition', () => {
    it('declares what the seed and the registry need', () => {
      expect(action).toMatchObject({ name: 'rds_query', kind: 'remediation', mutates: true, defaultRisk: 'LOW', iamActions: [], timeoutSeconds: 60 });
      expect(action.outputs).toEqual(expect.arrayContaining(['killed', 'identified_leaking_service', 'leaking_service']));
    });
  });
});
