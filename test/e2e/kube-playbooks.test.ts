/**
 * Seed scenarios 1 and 6 end to end on the local engine (compiled machines, dynalite, waits sped
 * up 600×) with the Kubernetes API sandbox as the cluster and the real client as the adapter:
 * traffic-surge doubles both HPAs on its own; pod-oom-killed takes a heap dump, raises the memory
 * limit once approved, and files the follow-up ticket with the dump's path; with every pod down
 * the dump is skipped (on_fail: skip) and the ticket says so.
 */
import { findApprovalForStep } from '../../lib/approval';
import { TicketDesk } from '../../lib/actions/tickets/desk';
import { getTimeline, type TimelineEvent } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { TYPES } from '../../lib/sandbox/kube';
import { decideOnEngine } from '../helpers/approvals';
import { alarmEvent } from '../helpers/events';
import { expectNoDenials } from '../helpers/iam';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';

let t: TestSandbox;
let engine: LocalEngine;
let tickets: TicketDesk;

jest.setTimeout(60000);

async function alarm(playbook: string, service: string, metric: string) {
  const r = await engine.asFunction('trigger', () => handleAlarmEvent(alarmEvent(`sre-agent/${playbook}/${service}/${metric}`, { at: new Date() }), { doc: engine.doc, tables: engine.tables, breakerConfig: {}, starter: engine, machines: engine.playbooks, now: () => new Date() }));
  expect(r.outcome).toBe('started');
  return r.incidentId as string;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const of = (events: readonly TimelineEvent[], step: string, type: string) => events.filter((e) => e.step === step && e.type === type);

beforeEach(async () => {
  t = await startTestSandbox();
  const targets: Record<string, unknown> = { kube: t.kube };
  engine = await new LocalEngine({ speedUp: 600, targets, notifier: false, iam: true }).start();
  tickets = new TicketDesk({ doc: engine.doc, table: engine.tables.incidents });
  targets.tickets = tickets;
});

afterEach(async () => {
  // The executions climb the escalation levels for as long as max_duration allows: stop them.
  await engine.stop();
  expectNoDenials(engine);
  expect(t.sandbox.cluster.errors).toEqual([]);
  await t.close();
});

describe('traffic-surge on the sandbox cluster', () => {
  it('doubles the HPA max of trading-api and market-data-ws without approval, before and after on the timeline', async () => {
    // act
    const id = await alarm('traffic-surge', 'trading-api', 'api_request_rate');
    await waitFor(async () => (of(await getTimeline(engine.doc, engine.tables, id), 'scale_up_market_data', 'action').length ? true : undefined), 'both HPA steps');
    // assess
    expect(t.sandbox.cluster.store.get(TYPES.hpas, 'trading', 'trading-api').spec.maxReplicas).toBe(40);
    expect(t.sandbox.cluster.store.get(TYPES.hpas, 'market-data', 'market-data-ws').spec.maxReplicas).toBe(64);
    const events = await getTimeline(engine.doc, engine.tables, id);
    expect(of(events, 'scale_up_trading_api', 'action')[0]).toMatchObject({ before: { namespace: 'trading', name: 'trading-api', maxReplicas: 20 }, after: { maxReplicas: 40 } });
    expect(of(events, 'scale_up_market_data', 'action')[0]?.summary).toContain('HPA market-data/market-data-ws maxReplicas 32 → 64');
  });
});

describe('pod-oom-killed on the sandbox cluster', () => {
  /** The on-call SRE approves increase_memory_limit; the timeline once the follow-up ticket is filed. */
  async function approveMemoryLimitThenTicket(id: string) {
    const pending = await waitFor(async () => {
      const rec = await findApprovalForStep(engine.doc, engine.tables, id, 'increase_memory_limit');
      return rec?.status === 'PENDING' ? rec : undefined;
    }, 'the approval of increase_memory_limit');
    // Decided as the approval pages decide: at 600x a window is 1 s, so a token read earlier may be gone.
    const { record } = await decideOnEngine(engine, pending.approvalId, { role: 'oncall_sre', person: 'alice', decision: 'approve' });
    expect(record.status).toBe('APPROVED');
    return waitFor(async () => {
      const e = await getTimeline(engine.doc, engine.tables, id);
      return of(e, 'create_followup_ticket', 'action').length ? e : undefined;
    }, 'the follow-up ticket', 20000);
  }

  it('dumps the heap, raises the memory limit 1.5× once approved, and files the ticket with the dump path', async () => {
    // prepare: trading-api pods were OOM-killed
    t.sandbox.cluster.oomKill('trading', 'trading-api', 2);
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'trading-api') && t.sandbox.cluster.store.list(TYPES.pods, { namespace: 'trading', labelSelector: 'app=trading-api' }).every((p) => p.status.conditions.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')));
    // act
    const id = await alarm('pod-oom-killed', 'trading-api', 'pod_oom_killed');
    const events = await approveMemoryLimitThenTicket(id);
    // assess
    const dump = of(events, 'capture_heap_dump', 'action')[0];
    expect(dump?.summary).toMatch(/^ran jmap in pod trading\/trading-api-\S+ \(container trading-api/);
    expect(t.sandbox.cluster.store.get(TYPES.deployments, 'trading', 'trading-api').spec.template.spec.containers[0].resources.limits.memory).toBe('3Gi');
    expect(of(events, 'increase_memory_limit', 'action')[0]?.summary).toContain('trading/trading-api container trading-api memory limit 2Gi → 3Gi');
    const [ticket] = await tickets.list();
    expect(ticket?.description).toMatch(/堆转储已保存: trading\/trading-api-\S+:\/tmp\/heap\.hprof/);
  });

  it('every pod down: the heap dump is skipped, the limit still raised once approved, and the ticket says the dump is unavailable', async () => {
    // prepare: all six trading-api pods were OOM-killed and wait in CrashLoopBackOff
    const hit = t.sandbox.cluster.oomKill('trading', 'trading-api', 6, undefined, { backOffSeconds: 600 });
    expect(hit).toHaveLength(6);
    // act
    const id = await alarm('pod-oom-killed', 'trading-api', 'pod_oom_killed');
    const events = await approveMemoryLimitThenTicket(id);
    // assess
    expect(of(events, 'capture_heap_dump', 'action')).toEqual([]);
    expect(of(events, 'capture_heap_dump', 'step_failed')[0]?.summary).toMatch(/^capture_heap_dump failed \(TargetNotFoundError: kubectl_exec: no running, ready pod of deployment trading\/trading-api.*skipping to the next step/);
    expect(t.sandbox.cluster.store.get(TYPES.deployments, 'trading', 'trading-api').spec.template.spec.containers[0].resources.limits.memory).toBe('3Gi');
    const [ticket] = await tickets.list();
    expect(ticket?.description).toContain('堆转储已保存: (unavailable)');
  });
});
