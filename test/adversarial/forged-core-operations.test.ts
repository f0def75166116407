/**
 * Attacks on the core operations the machines call (Fn_breaker, Fn_incident, Fn_escalate,
 * Fn_approval_request) with forged payloads: each decides from the stored incident and the
 * compiled playbook, so a payload can neither point a breaker at another service, nor resolve an
 * incident by saying so, nor count itself into the global breaker, nor name its own approvers.
 */
import { findApprovalForStep } from '../../lib/approval/store';
import { getGlobalBreaker, getServiceBreaker } from '../../lib/breaker';
import { claimStep, finishStep, getIncident, getTimeline, recordRecoveryCheck } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { startedIncident } from '../helpers/started-incident';

let engine: LocalEngine;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: false, breakerConfig: { maxConsecutiveFailures: 2, maxActiveHighSeverity: 0 } }).start();
});

afterAll(async () => engine.stop());

let n = 0;
async function incident(playbook: string, severity: 'MEDIUM' | 'HIGH' = 'MEDIUM') {
  n += 1;
  const started = await startedIncident(engine.doc, engine.tables, { playbook, service: `core-svc-${n}`, severity, playbooks: engine.compiled });
  const i = started.incident;
  return { ...started, refs: { incident: { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity }, context: {}, steps: {} } };
}

describe('forged core operations', () => {
  it("Fn_breaker failure counts against the incident's own service, whatever service the payload names", async () => {
    const inc = await incident('redis-memory-pressure');
    const forged = { ...inc.refs, incident: { ...inc.refs.incident, service: 'wallet-service' } };
    await engine.invoke('Fn_breaker', { op: 'failure', step: 'flush_expired_keys', action: 'redis_command', on_fail: 'abort', error: { Error: 'X' }, ...forged });
    expect((await getServiceBreaker(engine.doc, engine.tables, engine.breakerConfig, new Date(), 'wallet-service')).state).toBe('CLOSED');
    const events = await getTimeline(engine.doc, engine.tables, inc.incident.id);
    expect(events.find((e) => e.type === 'step_failed')?.summary).toContain('1 consecutive remediation failure');
  });

  it('a read-only step that fails counts toward the data-collection rate, not toward consecutive remediation failures', async () => {
    // The matching-engine playbook's thread dump fails for want of a target: on the old code, that
    // alone tripped the global breaker (three failures) and switched the agent to diagnose-only.
    const before = await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig);
    for (let i = 0; i < 3; i += 1) {
      const inc = await incident('matching-engine-latency');
      await engine.invoke('Fn_breaker', { op: 'failure', step: 'collect_diagnostics', action: 'collect_thread_dump_and_metrics', on_fail: 'abort', error: { Error: 'TargetNotConfiguredError' }, ...inc.refs });
    }
    const after = await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig);
    expect(after.consecutiveFailures).toBe(before.consecutiveFailures);
    expect(after.dataCollection?.failures).toBe((before.dataCollection?.failures ?? 0) + 3);
  });

  it('Fn_incident resolve without a stored recovery check is refused: a forged call cannot resolve an incident or reset its breaker', async () => {
    const inc = await incident('redis-memory-pressure');
    await expect(engine.invoke('Fn_incident', { op: 'resolve', ...inc.refs })).rejects.toMatchObject({ name: 'RecoveryNotVerifiedError' });
    await recordRecoveryCheck(engine.doc, engine.tables, inc.incident.id, 'false', new Date());
    await expect(engine.invoke('Fn_incident', { op: 'resolve', ...inc.refs })).rejects.toMatchObject({ name: 'RecoveryNotVerifiedError', message: expect.stringContaining('latest check: false') });
    // A true check older than 15 minutes is not enough either.
    await recordRecoveryCheck(engine.doc, engine.tables, inc.incident.id, 'true', new Date(Date.now() - 16 * 60_000));
    await expect(engine.invoke('Fn_incident', { op: 'resolve', ...inc.refs })).rejects.toMatchObject({ name: 'RecoveryNotVerifiedError' });
    expect((await getIncident(engine.doc, engine.tables, inc.incident.id)).status).toBe('MITIGATING');
    // What the machine does: verify, then resolve.
    await recordRecoveryCheck(engine.doc, engine.tables, inc.incident.id, 'true', new Date());
    await engine.invoke('Fn_incident', { op: 'resolve', ...inc.refs });
    expect((await getIncident(engine.doc, engine.tables, inc.incident.id)).status).toBe('RESOLVED');
  });

  it('Fn_evaluate verify checks the compiled playbook\'s detection rules, not rules the payload names: a forged easy rule cannot record a recovery', async () => {
    // prepare: memory still at 92 % (the playbook's rule: > 85 %), no evictions
    const inc = await incident('redis-memory-pressure');
    engine.metrics.put([
      { name: 'redis_memory_usage', value: 92, at: new Date(Date.now() - 5_000) },
      { name: 'redis_evicted_keys', value: 0, at: new Date(Date.now() - 5_000) },
    ]);
    // act: the payload names only a rule that is clear (and one that is not the playbook's)
    const out = await engine.invoke('Fn_evaluate', { op: 'verify', playbook: 'redis-memory-pressure', rules: ['redis_evicted_keys > 1000000'], ...inc.refs });
    // assess: judged on the compiled rules; the stored check is false, so resolve is refused
    expect(out).toEqual({ result: 'false' });
    // Nor by naming another playbook, whose rules the memory reading would not break: the stored incident's playbook decides.
    expect(await engine.invoke('Fn_evaluate', { op: 'verify', playbook: 'certificate-expiry-warning', rules: [], ...inc.refs, incident: { ...inc.refs.incident, playbook: 'certificate-expiry-warning' } })).toEqual({ result: 'false' });
    const checked = (await getTimeline(engine.doc, engine.tables, inc.incident.id)).filter((e) => e.type === 'recovery_checked');
    expect(checked.at(-1)?.summary).toBe('not recovered: redis_memory_usage > 85%');
    await expect(engine.invoke('Fn_incident', { op: 'resolve', ...inc.refs })).rejects.toMatchObject({ name: 'RecoveryNotVerifiedError', message: expect.stringContaining('latest check: false') });
  });

  it('Fn_evaluate verify reads the detection rules\' variables from metrics, not from the payload: a forged baseline or output cannot record a recovery', async () => {
    // prepare: memory still at 92 % (the rule: redis_memory_usage > 85%)
    const inc = await incident('redis-memory-pressure');
    engine.metrics.put([{ name: 'redis_memory_usage', value: 92, at: new Date(Date.now() - 5_000) }, { name: 'redis_evicted_keys', value: 0, at: new Date(Date.now() - 5_000) }]);
    // act: the payload's context and step outputs claim the memory reading is 10 %
    const lie = { redis_memory_usage: 10, baseline: 1e12 };
    const out = await engine.invoke('Fn_evaluate', { op: 'verify', playbook: 'redis-memory-pressure', rules: [], ...inc.refs, context: lie, steps: { analyze_memory: { outputs: lie } } });
    // assess: judged on the live reading; no recovery is stored
    expect(out).toEqual({ result: 'false' });
    expect((await getIncident(engine.doc, engine.tables, inc.incident.id)).recovery?.result).not.toBe('true');
  });

  it('Fn_evaluate verify of a baseline rule ignores a baseline the payload names', async () => {
    // prepare: traffic-surge's rules compare with the catalogue's baseline (the same metric a week earlier): no data for it here
    const inc = await incident('traffic-surge');
    engine.metrics.put([{ name: 'api_request_rate', service: inc.incident.service, value: 50000, at: new Date(Date.now() - 5_000) }, { name: 'websocket_connections', service: inc.incident.service, value: 90000, at: new Date(Date.now() - 5_000) }]);
    // act: a forged baseline so high that both rules read as clear
    const out = await engine.invoke('Fn_evaluate', { op: 'verify', playbook: 'traffic-surge', rules: [], ...inc.refs, context: { baseline: 1e12 } });
    // assess: not a recovery (no baseline data: unknown)
    expect(out).not.toEqual({ result: 'true' });
  });

  it('Fn_evaluate reads "still > 85% after cleanup" only from data newer than the stored end of the cleanup, whatever timing the payload gives', async () => {
    // prepare: the cleanup step finished now; the latest datapoint (91 %) is from before it
    const inc = await incident('redis-memory-pressure');
    engine.metrics.put([{ name: 'redis_memory_usage', value: 91, at: new Date(Date.now() - 30_000) }]);
    const claim = await claimStep(engine.doc, engine.tables, { incidentId: inc.incident.id, step: 'flush_expired_keys', action: 'redis_command', now: new Date() });
    expect(claim.claimed).toBe(true);
    await finishStep(engine.doc, engine.tables, inc.incident.id, 'flush_expired_keys', claim.record.claimId, { state: 'done', summary: 'unlinked', outputs: {} }, new Date());
    const check = (extra: Record<string, unknown>) => engine.invoke('Fn_evaluate', { op: 'condition', step: 'scale_redis_cluster', condition: 'redis_memory_usage still > 85% after cleanup', ...extra, ...inc.refs }) as Promise<{ result: string }>;
    // act + assess: the payload drops the "after" timing (its informational fields), and still the stale 91 % cannot trigger the scale-up
    expect((await check({ timing: null, after_step: null })).result).toBe('pending');
    const events = await getTimeline(engine.doc, engine.tables, inc.incident.id);
    expect(events.filter((e) => e.type === 'condition_evaluated').at(-1)?.summary).toBe('scale_redis_cluster: "redis_memory_usage still > 85% after cleanup" is pending (waiting for data newer than flush_expired_keys: redis_memory_usage)');
    // Nor does dropping the words from the condition text: text other than the compiled one is refused (test/adversarial/forged-conditions).
    await expect(check({ condition: 'redis_memory_usage > 85%' })).rejects.toMatchObject({ name: 'ConditionMismatchError', incidentId: inc.incident.id, step: 'scale_redis_cluster' });
    // The first datapoint after the cleanup decides.
    engine.metrics.put([{ name: 'redis_memory_usage', value: 38, at: new Date(Date.now() + 1_000) }]);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await check({})).result).toBe('false');
  });

  it('Fn_escalate counts the stored severity toward the global breaker, not a forged CRITICAL', async () => {
    const inc = await incident('redis-memory-pressure', 'MEDIUM');
    await engine.invoke('Fn_escalate', { op: 'incident', playbook: 'redis-memory-pressure', level: 2, ...inc.refs, incident: { ...inc.refs.incident, severity: 'CRITICAL' } });
    expect((await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig)).activeHighSeverity).not.toContain(inc.incident.id);
  });

  it('Fn_approval_request takes approvers, action and message from the compiled step, not from the payload', async () => {
    const inc = await incident('matching-engine-latency');
    const { token } = engine.tokens.issue(60_000);
    await engine.invoke('Fn_approval_request', { op: 'request', taskToken: token, step: 'rollback_matching_engine', level: 2, timeout_seconds: 600, approvers: ['intern'], min_approvals: 1, action: 'wallet_transfer', approval_message: 'just click', ...inc.refs });
    const rec = await findApprovalForStep(engine.doc, engine.tables, inc.incident.id, 'rollback_matching_engine');
    expect(rec).toMatchObject({ action: 'kubectl_rollout_undo', approvers: ['oncall_sre', 'matching_engine_owner'], minApprovals: 2, risk: 'HIGH' });
    expect(rec?.message).not.toContain('just click');
    // And a window the payload makes longer than the compiled one is cut to it.
    expect(Date.parse(rec!.levelExpiresAt!) - Date.parse(rec!.createdAt)).toBeLessThanOrEqual(600_000);
  });

  it('Fn_approval_request renders the message from stored state and live metrics, not from values the payload carries', async () => {
    // prepare: the service's live p99 is 350 ms and QPS 12000/s
    const inc = await incident('traffic-surge');
    engine.metrics.put([
      { name: 'api_latency_p99', service: inc.incident.service, value: 350, at: new Date(Date.now() - 5_000) },
      { name: 'api_request_rate', service: inc.incident.service, value: 12000, at: new Date(Date.now() - 5_000) },
    ]);
    const { token } = engine.tokens.issue(60_000);
    // act: a forged request whose context and step outputs claim the latency is fine
    const forged = { current_p99: '5ms', current_qps: '1/s' };
    await engine.invoke('Fn_approval_request', { op: 'request', taskToken: token, step: 'enable_rate_limiting', level: 2, timeout_seconds: 600, ...inc.refs, context: forged, steps: { scale_up_trading_api: { outputs: forged } } });
    // assess: approvers read the live values
    const rec = await findApprovalForStep(engine.doc, engine.tables, inc.incident.id, 'enable_rate_limiting');
    expect(rec?.message).toContain('延迟 P99: 350ms');
    expect(rec?.message).toContain('当前 QPS: 12000/s');
    expect(rec?.message).not.toContain('5ms');
  });

  it('Fn_approval_request refuses a step the compiled playbook does not wait on', async () => {
    const inc = await incident('matching-engine-latency');
    await expect(engine.invoke('Fn_approval_request', { op: 'request', taskToken: 't', step: 'collect_diagnostics', level: 2, timeout_seconds: 600, ...inc.refs })).rejects.toMatchObject({ name: 'PlaybookVersionError' });
  });

  it('Start incident refuses a machine compiled from another playbook version', async () => {
    await expect(engine.invoke('Fn_incident', { op: 'start', playbook: 'redis-memory-pressure', playbook_hash: '0'.repeat(64), kind: 'alarm', service: 'redis-cache', risk: 'LOW-MEDIUM', input: {} })).rejects.toMatchObject({ name: 'PlaybookVersionError', message: expect.stringContaining('deploy the machines and the functions together') });
  });
});
