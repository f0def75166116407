/** Unit tests of rds_query's own caps and leak detection; no database (SQL rules: test/unit/policy/rules). */
import { action, protectedDatabaseUsers, type RdsQueryParams } from '../../../lib/actions/rds_query';
import { createPolicy, SQL_ANALYSIS, type Policy } from '../../../lib/policy';
import { loadPolicy } from '../../../lib/policy/files';

// Read in each test, not while the file loads: Stryker counts what runs at load as "static" and
// restarts a test process for every mutant it reaches (npm run mutate, stryker.config.json).
let policy: Policy;
beforeEach(() => {
  policy ??= loadPolicy();
});
const IDLE = "SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300";
const checkCaps = (p: RdsQueryParams) => action.checkCaps?.(p, policy) ?? [];

describe('rds_query', () => {
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
  });

  describe('Function: protectedDatabaseUsers', () => {
    it("holds the database users of the protected services, and only theirs", () => {
      const users = protectedDatabaseUsers(policy);
      expect([...users].sort()).toEqual(['matching_engine', 'settlement_svc', 'wallet_svc']);
      expect(users.has('trading_api')).toBe(false);
    });
  });

  describe('Definition', () => {
    it('declares what the seed and the registry need', () => {
      expect(action).toMatchObject({ name: 'rds_query', kind: 'remediation', mutates: true, defaultRisk: 'LOW', iamActions: [], timeoutSeconds: 60 });
      expect(action.roles).toEqual({ sql: ['query'], killFollowUp: { param: 'follow_up', query: 'query' }, sqlAnalysis: SQL_ANALYSIS });
      expect(action.outputs).toEqual(expect.arrayContaining(['killed', 'identified_leaking_service', 'leaking_service', 'leaking_user']));
    });
  });
});
