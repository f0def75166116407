/**
 * The public status-page notice of an incident (seed §4.1 level 4: 对外公告), from draft to
 * resolution:
 *
 * 1. At level 4 (an approval or the incident escalated to the engineering director + CTO) the
 *    agent drafts the notice from the stored incident (features from the component map, UTC start,
 *    status; nothing internal) and asks for it to be published: an approval record of its own
 *    (step `#status-page`, which no playbook step can be named: `#` is not allowed in ASL state
 *    names), decided by either of them through the same signed links, CLI and checks as a step.
 *    It holds no task token: no execution waits on it.
 * 2. Approved: the notice approved (its hash is the record's binding) goes to the status page;
 *    its id there is stored once (`NOTICE#<incident>`), so a second approval path cannot post it
 *    twice. Rejected: nothing is published, and the timeline says who decided.
 * 3. When the incident resolves (by the agent or by hand) a published notice gets its resolution
 *    update; a notice still waiting for approval is cancelled: nothing to announce any more.
 *
 * Without a publisher (no status page configured) an approved notice goes on the timeline as the
 * text the war room posts by hand.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { closeApprovals, findApprovalForStep, requestApproval, type ApprovalRecord, type ApprovalTables } from '../approval/store';
import { appendEvent, type Incident, type IncidentTables } from '../incident';
import { draftNotice, STATUS_NOTICE_ACTION, STATUS_NOTICE_STEP, type PublishedNotice, type StatusComponent, type StatusNotice, type StatusPagePublisher } from '../notify/status-page';
import { canonicalJson, sha256, type ApprovalBinding } from '../policy/guard';

export { STATUS_NOTICE_ACTION, STATUS_NOTICE_STEP };
/** Seed §4.1 level 4: the engineering director or the CTO decides what the public is told. */
export const STATUS_NOTICE_APPROVERS: readonly string[] = ['engineering_director', 'cto'];
/** How long the draft may wait for a decision before it expires. */
export const STATUS_NOTICE_WINDOW_SECONDS = 4 * 3600;

/** Which user-facing features a service's incident touches (`playbooks/status-page.yaml`). */
export type StatusComponentMap = Readonly<Record<string, readonly StatusComponent[]>>;

/** Named when a service has no entry: never the internal service name. */
const UNMAPPED: readonly StatusComponent[] = [{ zh: '部分服务', en: 'Some services' }];

export interface StatusNoticeDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: IncidentTables & ApprovalTables;
  now(): Date;
  readonly components: StatusComponentMap;
  /** @default - none: an approved notice is left on the timeline for the war room to post */
  readonly publisher?: StatusPagePublisher;
}

/** What is kept once a notice went out: where it is, and the last version sent. */
export interface NoticeState {
  readonly incidentId: string;
  readonly publisher: string;
  readonly published: PublishedNotice;
  readonly phase: StatusNotice['phase'];
  readonly at: string;
}

/** The binding of a notice's approval: the exact notice text approved, for the incident's service. */
export function noticeBinding(notice: StatusNotice, service: string): ApprovalBinding {
  return { action: STATUS_NOTICE_ACTION, paramsHash: sha256(canonicalJson(notice)), target: `status-page:${service}` };
}

export function componentsFor(map: StatusComponentMap, service: string): readonly StatusComponent[] {
  return map[service] ?? UNMAPPED;
}

/** The text approvers read: both languages, as they will be published. */
export function noticeText(notice: StatusNotice): string {
  return [`【${notice.zh.title}】`, notice.zh.body, '', `[${notice.en.title}]`, notice.en.body].join('\n');
}

/**
 * Level 4: drafts the notice and asks the director/CTO to publish it. Once per incident: a later
 * call (the other level-4 path) finds the record and returns it.
 *
 * @returns the approval record and whether this call drafted it, or undefined when the incident has already resolved
 */
export async function proposeStatusNotice(deps: StatusNoticeDeps, incident: Incident): Promise<{ readonly record: ApprovalRecord; readonly drafted: boolean } | undefined> {
  if (incident.status === 'RESOLVED') return undefined;
  const now = deps.now();
  const notice = draftNotice({
    incidentId: incident.id,
    severity: incident.severity,
    startedAt: new Date(incident.timestamps.anomalyStartedAt),
    phase: 'investigating',
    components: componentsFor(deps.components, incident.service),
  });
  const text = noticeText(notice);
  const existing = await findApprovalForStep(deps.doc, deps.tables, incident.id, STATUS_NOTICE_STEP);
  if (existing) return { record: existing, drafted: false };
  const rec = await requestApproval(
    deps.doc,
    deps.tables,
    {
      incidentId: incident.id,
      step: STATUS_NOTICE_STEP,
      action: STATUS_NOTICE_ACTION,
      level: 4,
      approvers: STATUS_NOTICE_APPROVERS,
      minApprovals: 1,
      taskToken: '',
      timeoutSeconds: STATUS_NOTICE_WINDOW_SECONDS,
      totalSeconds: STATUS_NOTICE_WINDOW_SECONDS,
      message: `Public status-page notice for ${incident.id}, to publish on approval:\n\n${text}`,
      risk: incident.severity,
      binding: noticeBinding(notice, incident.service),
      params: { notice },
    },
    now,
  );
  // Two level-4 paths at the same moment: the one whose record this is drafted it.
  const drafted = rec.createdAt === now.toISOString() && rec.decisions.length === 0;
  if (drafted) {
    await appendEvent(deps.doc, deps.tables, incident.id, {
      at: now,
      type: 'status_notice_drafted',
      step: STATUS_NOTICE_STEP,
      summary: `status page: notice drafted ("${notice.en.title}"); waiting for ${STATUS_NOTICE_APPROVERS.join(' or ')} to approve it`,
      data: { approvalId: rec.approvalId, notice },
    });
  }
  return { record: rec, drafted };
}

/** The notice an approval record carries, checked against the hash it was approved under. */
export function approvedNotice(rec: ApprovalRecord): StatusNotice {
  const notice = (rec.params as { notice?: StatusNotice } | undefined)?.notice;
  if (!notice || rec.action !== STATUS_NOTICE_ACTION) throw new StatusNoticeError(`approval ${rec.approvalId} is not a status-page notice`, rec.incidentId);
  if (!rec.binding || sha256(canonicalJson(notice)) !== rec.binding.paramsHash) {
    throw new StatusNoticeError(`approval ${rec.approvalId}: the stored notice is not the one approved (hash mismatch); not publishing`, rec.incidentId);
  }
  return notice;
}

/** A notice the agent refuses to publish; the message names the incident or approval. */
export class StatusNoticeError extends Error {
  override readonly name = 'StatusNoticeError';
  public constructor(message: string, public readonly incidentId: string) {
    super(message);
  }
}

const noticeKey = (incidentId: string) => ({ pk: `NOTICE#${incidentId}` });

export async function getNoticeState(deps: Pick<StatusNoticeDeps, 'doc' | 'tables'>, incidentId: string): Promise<NoticeState | undefined> {
  const out = await deps.doc.send(new GetCommand({ TableName: deps.tables.approvals, Key: noticeKey(incidentId), ConsistentRead: true }));
  return out.Item as NoticeState | undefined;
}

/**
 * A decision on a notice's approval was stored: publish it when APPROVED. Failures are recorded
 * on the timeline (the war room then posts it by hand), never thrown: the decision stands.
 */
export async function onNoticeDecided(deps: StatusNoticeDeps, rec: ApprovalRecord): Promise<void> {
  const now = deps.now();
  const by = rec.decisions.at(-1);
  const who = by ? `${by.person} (${by.role})` : 'unknown';
  if (rec.status === 'REJECTED') {
    await appendEvent(deps.doc, deps.tables, rec.incidentId, { at: now, type: 'status_notice_rejected', step: STATUS_NOTICE_STEP, actor: by?.person, summary: `status page: notice not published, rejected by ${who}${by?.reason ? `: ${by.reason}` : ''}`, data: { approvalId: rec.approvalId } });
    return;
  }
  if (rec.status !== 'APPROVED') return;
  let notice: StatusNotice;
  try {
    notice = approvedNotice(rec);
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, rec.incidentId, { at: now, type: 'status_notice_failed', step: STATUS_NOTICE_STEP, summary: `status page: ${(err as Error).message}`, data: { approvalId: rec.approvalId } });
    return;
  }
  if (!deps.publisher) {
    await appendEvent(deps.doc, deps.tables, rec.incidentId, {
      at: now,
      type: 'status_notice_approved',
      step: STATUS_NOTICE_STEP,
      actor: by?.person,
      summary: `status page: notice approved by ${who}; no status page is configured, so the war room posts it by hand`,
      data: { approvalId: rec.approvalId, notice },
    });
    return;
  }
  await publish(deps, rec.incidentId, notice, undefined, { approvalId: rec.approvalId, actor: by?.person, why: `approved by ${who}` });
}

/**
 * The incident resolved: a published notice gets its resolution; a draft still waiting is
 * cancelled. Recorded, never thrown.
 */
export async function followNoticeOnResolve(deps: StatusNoticeDeps, incident: Incident): Promise<void> {
  const now = deps.now();
  const state = await getNoticeState(deps, incident.id);
  if (!state) {
    // Only a draft still waiting: an approved one without a publisher was posted by hand.
    const draft = await findApprovalForStep(deps.doc, deps.tables, incident.id, STATUS_NOTICE_STEP);
    if (draft?.status === 'PENDING') {
      await closeApprovals(deps.doc, deps.tables, incident.id, 'CANCELLED', 'the incident resolved before the notice was approved', now, [STATUS_NOTICE_STEP]);
      await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'approval_closed', step: STATUS_NOTICE_STEP, summary: `approval ${draft.approvalId} for the status-page notice CANCELLED: the incident resolved before it was approved`, data: { approvalId: draft.approvalId, status: 'CANCELLED' } });
    }
    return;
  }
  if (state.phase === 'resolved' || !deps.publisher) return;
  const notice = draftNotice({
    incidentId: incident.id,
    severity: incident.severity,
    startedAt: new Date(incident.timestamps.anomalyStartedAt),
    phase: 'resolved',
    resolvedAt: new Date(incident.timestamps.resolvedAt ?? now.toISOString()),
    components: componentsFor(deps.components, incident.service),
  });
  await publish(deps, incident.id, notice, state, { why: 'the incident resolved' });
}

async function publish(deps: StatusNoticeDeps, incidentId: string, notice: StatusNotice, previous: NoticeState | undefined, ctx: { approvalId?: string; actor?: string; why: string }): Promise<void> {
  const publisher = deps.publisher!;
  const now = deps.now();
  let published: PublishedNotice;
  try {
    published = await publisher.publish(notice, previous?.published);
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, incidentId, {
      at: now,
      type: 'status_notice_failed',
      step: STATUS_NOTICE_STEP,
      summary: `status page ${publisher.name} did not take the ${notice.phase} notice (${(err as Error).name}: ${(err as Error).message}); the war room posts it by hand`,
      data: { ...(ctx.approvalId ? { approvalId: ctx.approvalId } : {}), notice },
    });
    return;
  }
  const state: NoticeState = { incidentId, publisher: publisher.name, published, phase: notice.phase, at: now.toISOString() };
  try {
    // The first publication is stored once: a second approval path finds it and posts nothing more.
    await deps.doc.send(new PutCommand({
      TableName: deps.tables.approvals,
      Item: { ...noticeKey(incidentId), ...state },
      ...(previous ? { ConditionExpression: 'attribute_exists(pk)' } : { ConditionExpression: 'attribute_not_exists(pk)' }),
    }));
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
  await appendEvent(deps.doc, deps.tables, incidentId, {
    at: now,
    type: previous ? 'status_notice_updated' : 'status_notice_published',
    step: STATUS_NOTICE_STEP,
    actor: ctx.actor,
    summary: `status page ${publisher.name}: ${notice.phase} notice ${previous ? 'updated' : 'published'} (${ctx.why})${published.url ? ` ${published.url}` : ''}`,
    data: { ...(ctx.approvalId ? { approvalId: ctx.approvalId } : {}), published, notice },
  });
}
