/** parameter-caps: the action's own caps, reported on the parameter they are about. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'parameter-caps';

describe(RULE, () => {
  it('refuses max_kills over the cap, on max_kills', () => {
    expect(findingsOf(RULE, facts('rds_query', { query: 'SELECT 1', max_kills: 500 }))).toEqual([expect.objectContaining({ field: ['params', 'max_kills'], message: 'max_kills 500 is over the policy cap of 50' })]);
  });
  it('lets max_kills within the cap pass', () => {
    expect(findingsOf(RULE, facts('rds_query', { query: 'SELECT 1', max_kills: 50 }))).toEqual([]);
  });
  it.each([
    ['redis_command', { command: 'redis-cli FLUSHALL' }],
    ['redis_command', { command: "redis-cli --scan --pattern '*' | xargs redis-cli UNLINK" }],
    ['kubectl_exec', { command: 'rm -rf /tmp', deployment: 'trading-api' }],
    ['kubectl_scale', { deployment: 'trading-api', replicas: 0 }],
    ['kubectl_scale', { deployment: 'trading-api', replicas: 500 }],
  ])('refuses %s %j', (action, params) => {
    expect(findingsOf(RULE, facts(action, params))).toHaveLength(1);
  });
  it.each([
    ['redis_command', { command: "redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK" }],
    ['kubectl_exec', { command: 'jstack 1', deployment: 'trading-api' }],
    ['kubectl_scale', { deployment: 'trading-api', replicas: 4 }],
  ])('lets %s %j pass', (action, params) => {
    expect(findingsOf(RULE, facts(action, params))).toEqual([]);
  });
});
