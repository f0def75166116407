/** protected-service-approval: mutations on protected services need approval, by identity. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'protected-service-approval';

describe(RULE, () => {
  it.each(['matching-engine', 'MATCHING-ENGINE', 'trading/matching-engine', 'wallet-service', 'settlement-service'])('needs approval for restarting %s', (deployment) => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: deployment.toLowerCase().replace(/^trading\//, ''), strategy: 'one_at_a_time' }))).toEqual([expect.objectContaining({ effect: 'needs_approval' })]);
  });

  it.each(['matching-engine:8080/admin/gc', 'http://Matching-Engine.trading.svc.cluster.local:8080/admin/gc', 'MATCHING_ENGINE:8080/admin/gc'])('needs approval for calling %s', (endpoint) => {
    expect(findingsOf(RULE, facts('api_call', { endpoint, method: 'POST' }))[0]?.message).toContain('always need approval, even at low risk');
  });

  it('needs approval for any mutating step of an incident on a protected service', () => {
    expect(findingsOf(RULE, facts('redis_command', { command: "redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK" }, { service: 'wallet-service' }))).toHaveLength(1);
  });

  it('lets read-only diagnostics of the matching engine run on their own', () => {
    expect(findingsOf(RULE, facts('collect_thread_dump_and_metrics', { service: 'matching-engine' }))).toEqual([]);
  });

  it('does not ask approval for an unprotected service', () => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'trading-api', strategy: 'one_at_a_time' }, { service: 'trading-api' }))).toEqual([]);
  });

  it('judges a {{template}} target at run time, once resolved', () => {
    expect(findingsOf(RULE, facts('kubectl_scale', { deployment: '{{consumer_deployment}}', replicas: 'current * 2' }), 'compile')).toEqual([]);
    expect(findingsOf(RULE, facts('kubectl_scale', { deployment: 'matching-engine', replicas: 'current * 2' }), 'runtime')).toHaveLength(1);
  });
});
