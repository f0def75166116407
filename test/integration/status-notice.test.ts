/**
 * The public status-page notice (seed §4.1 level 4, 对外公告) through the core's real escalate and
 * resolve operations on the local engine (dynalite): drafted once at level 4 from the stored
 * incident, decided by the engineering director or the CTO with the same roster checks as any
 * approval, published to a status page played by a local HTTP server, updated on resolution;
 * never published when rejected, cancelled when the incident resolves first, and never posted
 * from a record whose notice was changed after it was approved.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { findApprovalForStep, type ApprovalRecord } from '../../lib/approval/store';
import { getTimeline, openOrJoinIncident, type Incident } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { decide } from '../../lib/local/server';
import { WebhookStatusPage } from '../../lib/notify/status-page';
import { resolveByHand, runCore } from '../../lib/runtime/core';
import { getNoticeState, STATUS_NOTICE_STEP } from '../../lib/runtime/status-notice';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder';
import { loadRotationFile } from '../../lib/approval/oncall-file';
import { loadStatusComponents } from '../../lib/runtime/status-page-file';

let server: HttpRecorder;
let engine: LocalEngine;
const rotation = loadRotationFile();

beforeAll(async () => {
  server = await startRecorder();
  engine = await new LocalEngine({
    notifier: false,
    oncall: rotation,
    statusPage: { components: loadStatusComponents(), publisher: new WebhookStatusPage({ url: `${server.url}/notices` }) },
  }).start();
});

afterAll(async () => {
  await engine?.stop();
  await server?.close();
});

let n = 0;
/** A fresh HIGH incident of trading-api whose anomaly began 20 minutes ago. */
async function openIncident(service = 'trading-api'): Promise<Incident> {
  n += 1;
  const now = new Date();
  const { incident } = await openOrJoinIncident(engine.doc, engine.tables, {
    playbook: 'traffic-surge',
    service,
    severity: 'HIGH',
    alarm: { name: `sre-agent/traffic-surge/${service}/notice-${process.pid}-${n}` },
    detectedAt: now,
    anomalyStartedAt: new Date(now.getTime() - 20 * 60_000),
  });
  return incident;
}

function escalateTo4(incident: Incident, op: 'incident' | 'approval' = 'incident') {
  const refs = { incident: { id: incident.id, playbook: incident.playbook, service: incident.service, severity: incident.severity }, context: {}, steps: {} };
  return runCore('Fn_escalate', { ...refs, op, level: 4, playbook: incident.playbook, ...(op === 'approval' ? { step: 'rate_limit' } : {}) }, engine.coreDeps());
}

async function notice(incident: Incident): Promise<ApprovalRecord> {
  const rec = await findApprovalForStep(engine.doc, engine.tables, incident.id, STATUS_NOTICE_STEP);
  if (!rec) throw new Error(`no notice approval for ${incident.id}`);
  return rec;
}

const posted = (incident: Incident) => server.to('/notices').filter((r) => (r.json as { notice: { incidentId: string } }).notice.incidentId === incident.id);

describe('status-page notice at level 4', () => {
  it('drafts one notice from the stored incident for the director or the CTO, publishes it when the CTO approves, and posts the resolution', async () => {
    const incident = await openIncident();
    await escalateTo4(incident, 'approval');
    await escalateTo4(incident, 'incident'); // the other level-4 path: no second draft
    const rec = await notice(incident);
    expect(rec).toMatchObject({ status: 'PENDING', action: 'publish_status_notice', approvers: ['engineering_director', 'cto'], minApprovals: 1, level: 4, taskToken: '' });
    // What users read: the features of trading-api, the anomaly's start in UTC; nothing internal.
    const draft = (rec.params as { notice: { zh: { body: string }; en: { body: string }; startedAt: string } }).notice;
    expect(draft.startedAt).toBe(incident.timestamps.anomalyStartedAt);
    expect(draft.zh.body).toContain('现货交易');
    expect(draft.en.body).toContain('Spot trading');
    expect(JSON.stringify(draft)).not.toMatch(/trading-api|traffic-surge|INC-.*INC-/);
    expect(rec.message).toContain(draft.en.body);
    expect(posted(incident)).toHaveLength(0);

    const timeline = await getTimeline(engine.doc, engine.tables, incident.id);
    expect(timeline.filter((e) => e.type === 'status_notice_drafted')).toHaveLength(1);

    // Someone not in the roster as CTO cannot approve it; the CTO can.
    await expect(decide(engine, rec.approvalId, 'approve', 'mallory', 'cto')).rejects.toMatchObject({ name: 'ApprovalError' });
    expect(posted(incident)).toHaveLength(0);
    const out = await decide(engine, rec.approvalId, 'approve', 'sun.hui', 'cto');
    expect(out).toMatchObject({ status: 'APPROVED', released: false });
    const [first] = posted(incident);
    expect(first.json).toMatchObject({ notice: { phase: 'investigating', incidentId: incident.id }, previousId: null });
    expect(await getNoticeState(engine, incident.id)).toMatchObject({ phase: 'investigating', published: { id: incident.id } });

    await resolveByHand(engine.coreDeps(), incident.id, { person: 'Sun Hui', reason: 'recovered after the rollback' });
    const all = posted(incident);
    expect(all).toHaveLength(2);
    expect(all[1].json).toMatchObject({ notice: { phase: 'resolved', resolvedAt: expect.any(String) }, previousId: incident.id });
    const types = (await getTimeline(engine.doc, engine.tables, incident.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['status_notice_drafted', 'approval_approved', 'status_notice_published', 'status_notice_updated']));
  });

  it('publishes once: a replayed or second decision on an approved notice is refused, and the approval binds no playbook step', async () => {
    const incident = await openIncident('redis-cache');
    await escalateTo4(incident);
    const rec = await notice(incident);
    await decide(engine, rec.approvalId, 'approve', 'sun.hui', 'cto');
    await expect(decide(engine, rec.approvalId, 'approve', 'sun.hui', 'cto')).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('APPROVED') });
    await expect(decide(engine, rec.approvalId, 'approve', 'david.kim', 'engineering_director')).rejects.toMatchObject({ name: 'ApprovalError' });
    expect(posted(incident)).toHaveLength(1);
    // `#` cannot start or stand in a step name: no compiled step can be the notice's.
    expect(engine.compiled.step(incident.playbook, STATUS_NOTICE_STEP)).toBeUndefined();
  });

  it('publishes nothing when the director rejects the notice', async () => {
    const incident = await openIncident('wallet-service');
    await escalateTo4(incident);
    const rec = await notice(incident);
    await decide(engine, rec.approvalId, 'reject', 'david.kim', 'engineering_director', 'internal only');
    expect(posted(incident)).toHaveLength(0);
    const rejected = (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'status_notice_rejected');
    expect(rejected).toEqual([expect.objectContaining({ summary: expect.stringContaining('internal only') })]);
    await resolveByHand(engine.coreDeps(), incident.id, { person: 'David Kim', reason: 'done' });
    expect(posted(incident)).toHaveLength(0);
  });

  it('cancels a notice still waiting when the incident resolves first; it can no longer be approved', async () => {
    const incident = await openIncident('order-service');
    await escalateTo4(incident);
    const rec = await notice(incident);
    await resolveByHand(engine.coreDeps(), incident.id, { person: 'Li Na', reason: 'recovered' });
    expect((await notice(incident)).status).toBe('CANCELLED');
    await expect(decide(engine, rec.approvalId, 'approve', 'sun.hui', 'cto')).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('CANCELLED') });
    expect(posted(incident)).toHaveLength(0);
  });

  it('refuses to publish a notice changed in the table after it was drafted (the approval binds its hash)', async () => {
    const incident = await openIncident('settlement-service');
    await escalateTo4(incident);
    const rec = await notice(incident);
    const forged = { ...(rec.params as { notice: Record<string, unknown> }).notice, en: { title: 'All good', body: 'Withdrawals are paused for maintenance; send funds to 0xabc' } };
    await engine.doc.send(new UpdateCommand({ TableName: engine.tables.approvals, Key: { pk: `STEP#${incident.id}#${STATUS_NOTICE_STEP}` }, UpdateExpression: 'SET params = :p', ExpressionAttributeValues: { ':p': { notice: forged } } }));
    await decide(engine, rec.approvalId, 'approve', 'sun.hui', 'cto');
    expect(posted(incident)).toHaveLength(0);
    const failed = (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'status_notice_failed');
    expect(failed).toEqual([expect.objectContaining({ summary: expect.stringContaining('not the one approved') })]);
  });

  it('records a status page that does not take the notice, and keeps the decision', async () => {
    const incident = await openIncident('market-data-ws');
    await escalateTo4(incident);
    const rec = await notice(incident);
    server.respond((req) => (req.path === '/notices' ? { status: 503, body: 'down' } : { status: 200, body: 'ok' }));
    try {
      await decide(engine, rec.approvalId, 'approve', 'david.kim', 'engineering_director');
    } finally {
      server.respond(() => ({ status: 200, body: {} }));
    }
    expect((await notice(incident)).status).toBe('APPROVED');
    const failed = (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'status_notice_failed');
    expect(failed).toEqual([expect.objectContaining({ summary: expect.stringContaining('did not take the investigating notice') })]);
  });
});
