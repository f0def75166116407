/**
 * What people are paged and asked to approve with comes from stored state, never from a payload:
 * Fn_approval_request and Fn_escalate receive the machine's `incident` ref and `$.run.steps`, and a
 * forged invocation could put made-up evidence ("p99 back to 5 ms") in front of approvers, or page
 * the war room about another service at another severity. Each attack has its safe twin: what the
 * incident stored does reach them.
 */
import type { Notification } from '../../lib/notify';
import { claimStep, finishStep } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { recordingNotifier } from '../helpers/recording-notifier';
import { startedIncident } from '../helpers/started-incident';

const recording = recordingNotifier();
let engine: LocalEngine;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: recording.notifier }).start();
});

afterAll(async () => engine.stop());

beforeEach(() => {
  recording.sent.length = 0;
});

let n = 0;
/** A started traffic-surge incident whose first step ran and stored its summary. */
async function incidentWithStoredStep() {
  n += 1;
  const started = await startedIncident(engine.doc, engine.tables, { playbook: 'traffic-surge', service: `evidence-svc-${n}`, severity: 'MEDIUM', playbooks: engine.compiled });
  const i = started.incident;
  const claim = await claimStep(engine.doc, engine.tables, { incidentId: i.id, step: 'scale_up_trading_api', action: 'patch_hpa_max', now: new Date() });
  if (!claim.claimed) throw new Error('claim failed');
  await finishStep(engine.doc, engine.tables, i.id, 'scale_up_trading_api', claim.record.claimId, { state: 'done', summary: 'HPA max 20 → 30; p99 still 350 ms', outputs: {} }, new Date());
  return { incident: i, ref: { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity } };
}

/** What a forged payload claims: a healthy service, other evidence, another service and severity. */
const FORGED_STEPS = { scale_up_trading_api: { summary: 'p99 back to 5 ms, all healthy: approve', outputs: {} }, invented_step: { summary: 'nothing to worry about', outputs: {} } };
const text = (n: Notification) => JSON.stringify(n);

describe('forged payloads and what people are told', () => {
  it('Fn_approval_request: the evidence approvers read is the stored step summaries, not the payload\'s', async () => {
    // arrange
    const { incident, ref } = await incidentWithStoredStep();
    const { token } = engine.tokens.issue(60_000);
    // act: a request whose steps claim the service recovered
    await engine.invoke('Fn_approval_request', { op: 'request', taskToken: token, step: 'enable_rate_limiting', level: 2, timeout_seconds: 600, incident: ref, context: {}, steps: FORGED_STEPS });
    // assess
    const asked = recording.sent.filter((s) => s.kind === 'approval_request' && s.incidentId === incident.id);
    expect(asked.length).toBeGreaterThan(0);
    for (const s of asked) {
      expect(s.details?.evidence).toMatchObject({ scale_up_trading_api: 'HPA max 20 → 30; p99 still 350 ms' });
      expect(text(s)).not.toContain('5 ms');
      expect(text(s)).not.toContain('invented_step');
    }
  });

  it('Fn_escalate (approval): the page names the stored service and severity, not the payload\'s', async () => {
    // arrange
    const { incident, ref } = await incidentWithStoredStep();
    // act: the escalation of an approval, claiming the wallet service at CRITICAL with a made-up alarm
    const forgedRef = { ...ref, service: 'wallet-service', severity: 'CRITICAL', alarmName: 'sre-agent/forged/wallet-service/drained', alarmReason: 'hot wallet drained' };
    await engine.invoke('Fn_escalate', { op: 'approval', step: 'enable_rate_limiting', level: 3, playbook: 'traffic-surge', incident: forgedRef, context: {}, steps: FORGED_STEPS });
    // assess
    const paged = recording.sent.filter((s) => s.incidentId === incident.id);
    expect(paged.map((s) => s.kind)).toEqual(['approval_escalated']);
    expect(paged[0]).toMatchObject({ service: incident.service, severity: 'error' });
    expect(paged[0]!.details?.evidence).toMatchObject({ scale_up_trading_api: 'HPA max 20 → 30; p99 still 350 ms' });
    expect(text(paged[0]!)).not.toMatch(/wallet-service|hot wallet|5 ms|invented_step/);
  });

  it('Fn_escalate (incident, level 3): the page names the stored service and severity, not the payload\'s', async () => {
    // arrange
    const { incident, ref } = await incidentWithStoredStep();
    // act
    await engine.invoke('Fn_escalate', { op: 'incident', level: 3, playbook: 'traffic-surge', incident: { ...ref, service: 'wallet-service', severity: 'CRITICAL' }, context: {}, steps: FORGED_STEPS });
    // assess
    const paged = recording.sent.filter((s) => s.incidentId === incident.id);
    expect(paged.length).toBeGreaterThan(0);
    for (const s of paged) {
      expect(s.service).toBe(incident.service);
      expect(s.severity).not.toBe('critical');
      expect(text(s)).not.toContain('wallet-service');
    }
  });

  it('Fn_escalate for an incident that does not exist is refused, and pages nobody', async () => {
    await expect(engine.invoke('Fn_escalate', { op: 'approval', step: 'enable_rate_limiting', level: 3, playbook: 'traffic-surge', incident: { id: 'inc-does-not-exist', playbook: 'traffic-surge', service: 'trading-api', severity: 'CRITICAL' }, context: {}, steps: {} })).rejects.toMatchObject({ name: 'IncidentNotFoundError' });
    expect(recording.sent).toEqual([]);
  });
});
