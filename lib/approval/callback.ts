/**
 * The approval page behind a signed link, shared by the approval-callback Lambda and the local
 * server. GET never decides (mail scanners prefetch links): it verifies the link and shows a
 * confirmation form. POST verifies again, records the decision on the approval record (the one
 * conditional write that makes a link work once) and, when that settles the step, releases the
 * waiting execution with SendTaskSuccess / SendTaskFailure(ApprovalRejectedError). Every view,
 * decision and refusal goes on the incident's timeline with where it came from.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NewTimelineEvent } from '../incident/model';
import { personKey } from '../policy/binding';
import { STATUS_NOTICE_ACTION } from '../notify/status-page';
import { ApprovalLinkError, verifyApprovalLink, type ApprovalLinkQuery, type SigningKey, type VerifiedApprovalLink } from './links';
import { personMatches, type OnCallLookup } from './oncall';
import { ApprovalError, decideApproval, locateApproval, type ApprovalDecision, type ApprovalRecord, type ApprovalTables } from './store';

/** The error name a rejection delivers to the waiting Task; the compiled machines Catch it. */
export const APPROVAL_REJECTED_ERROR = 'ApprovalRejectedError';

/** What the waiting Task receives on approval. */
export interface ApprovalOutput {
  readonly approvalId: string;
  readonly decisions: readonly ApprovalDecision[];
}

/** Where a request came from, for the timeline. */
export interface RequestOrigin {
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** I/O of the approval page and of {@link decideAndRelease}. */
export interface ApprovalPageDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: ApprovalTables;
  readonly key: SigningKey;
  now(): Date;
  /** SendTaskSuccess (AWS) or the local engine's equivalent. */
  sendTaskSuccess(taskToken: string, output: ApprovalOutput): unknown;
  /** SendTaskFailure (AWS) or the local engine's equivalent. */
  sendTaskFailure(taskToken: string, error: string, cause: string): unknown;
  /** Appends a timeline event to an incident (appendEvent). */
  record(incidentId: string, event: NewTimelineEvent): Promise<unknown>;
  /**
   * Who holds each approver role now (the rotation file, PagerDuty): a link decides only while its
   * person still holds its role, as when the request resolved them. Undefined: no roster to ask,
   * and every link is refused (a link is only ever sent to someone a roster named).
   */
  readonly oncall: OnCallLookup | undefined;
  /**
   * The request's source IP and user agent.
   * @default - not recorded
   */
  readonly from?: RequestOrigin;
  /**
   * Told when a timeline write or a task release fails after the decision was stored (the
   * decision stands; the page says what happened).
   * @default - ignored
   */
  warn?(message: string, error: unknown): void;
  /**
   * Told of a decision on a status-page notice's approval (no execution waits on it: no task to
   * release); publishes an approved notice (lib/runtime/status-notice).
   * @default - the decision is stored and nothing is published
   */
  onNoticeDecided?(record: ApprovalRecord): Promise<void>;
  /**
   * Where approval records are read and decided.
   * @default - the DynamoDB approval table (`doc`, `tables`): locateApproval and decideApproval
   */
  readonly store?: ApprovalPageStore;
}

/** The approval-record operations the page uses: the DynamoDB store, or an in-memory one in unit tests. */
export interface ApprovalPageStore {
  /** The incident and step an approval id belongs to, and the step's current record. */
  locate(approvalId: string): Promise<{ readonly incidentId: string; readonly step: string; readonly current?: ApprovalRecord } | undefined>;
  /** Records one decision with one conditional write. @throws ApprovalError when it is refused */
  decide(approvalId: string, decision: Omit<ApprovalDecision, 'at'>, now: Date): Promise<ApprovalRecord>;
}

function storeOf(deps: ApprovalPageDeps): ApprovalPageStore {
  return deps.store ?? { locate: (id) => locateApproval(deps.doc, deps.tables, id), decide: (id, decision, now) => decideApproval(deps.doc, deps.tables, id, decision, now) };
}

/** An HTML answer: status, document and the headers to send with it. */
export interface ApprovalPage {
  readonly status: number;
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Why a link was refused after (or instead of) verifying it. */
export type RefusalReason = 'malformed' | 'tampered' | 'expired' | 'unknown' | 'wrong_approver' | 'not_on_call' | 'same_person' | 'replayed' | 'already_decided' | 'conflict';

const REFUSAL_STATUS: Readonly<Record<RefusalReason, number>> = {
  malformed: 400,
  tampered: 403,
  wrong_approver: 403,
  not_on_call: 403,
  same_person: 403,
  unknown: 404,
  expired: 410,
  replayed: 409,
  already_decided: 409,
  conflict: 409,
};

const REFUSAL_TITLE: Readonly<Record<RefusalReason, string>> = {
  malformed: 'This approval link is incomplete',
  tampered: 'This approval link was altered',
  wrong_approver: 'This link is not for an approver of this step',
  not_on_call: 'This approver no longer holds the role',
  same_person: 'A second approval must come from someone else',
  unknown: 'No such approval',
  expired: 'This approval link has expired',
  replayed: 'This decision was already made',
  already_decided: 'This step was already decided',
  conflict: 'The approval changed while deciding',
};

/** Headers of every page: never cached, never framed, no referrer (the URL holds a live signature). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** Longest form body read (the form has six short fields and a reason). */
const MAX_FORM_BYTES = 16 * 1024;
const MAX_REASON_CHARS = 1000;
const SIGNED_FIELDS = ['person', 'role', 'decision', 'expires', 'sig'] as const;

/** HTML-escapes any value (text and attribute values alike). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!);
}

function formFields(body: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body ?? '')) if (!(k in out)) out[k] = v;
  return out;
}

/** The claims of a link that did not verify, shortened: they go on the timeline as "claimed", never as fact. */
function claimed(params: ApprovalLinkQuery): Record<string, string> {
  return Object.fromEntries(['person', 'role', 'decision'].filter((k) => typeof params[k] === 'string').map((k) => [k, String(params[k]).slice(0, 200)]));
}

function origin(deps: ApprovalPageDeps): Record<string, string> {
  return { ...(deps.from?.sourceIp ? { sourceIp: deps.from.sourceIp } : {}), ...(deps.from?.userAgent ? { userAgent: deps.from.userAgent.slice(0, 300) } : {}) };
}

function fromText(deps: ApprovalPageDeps): string {
  return `from ${deps.from?.sourceIp ?? 'unknown address'}${deps.from?.userAgent ? ` (${deps.from.userAgent.slice(0, 120)})` : ''}`;
}

async function safeRecord(deps: ApprovalPageDeps, incidentId: string, event: NewTimelineEvent): Promise<void> {
  try {
    await deps.record(incidentId, event);
  } catch (err) {
    deps.warn?.(`timeline event ${event.type} for ${incidentId} not recorded`, err);
  }
}

// ---- the roster, again ---------------------------------------------------------------------

/**
 * A link whose person does not hold its role in the on-call roster now (rotated off, removed from
 * the rotation file or PagerDuty), or whose roster cannot be asked. Nothing was decided.
 */
export class ApproverNotOnCallError extends ApprovalError {
  public constructor(
    /** The approval the link is for. */
    public readonly approvalId: string,
    /** The person the link names. */
    public readonly person: string,
    /** The approver role the link decides for. */
    public readonly role: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApproverNotOnCallError';
  }
}

/**
 * Checks that `person` holds `role` in the on-call roster at `at`, as the approval request found
 * them when it sent their link (lib/approval/escalation `recipientsFor`): a signed link stays
 * valid until its approval expires, but whoever it names decides only while still on call.
 * @throws ApproverNotOnCallError when they do not, or the roster cannot say (fail closed)
 */
export async function assertStillOnCall(oncall: OnCallLookup | undefined, approvalId: string, person: string, role: string, at: Date): Promise<void> {
  if (!oncall) throw new ApproverNotOnCallError(approvalId, person, role, `no on-call roster is configured, so ${person} cannot be checked as ${role} of approval ${approvalId}; nothing was decided`);
  let holders;
  try {
    holders = await oncall.whoIs(role, at);
  } catch (err) {
    throw new ApproverNotOnCallError(approvalId, person, role, `the on-call roster could not say whether ${person} still holds ${role} (${(err as Error).name}: ${(err as Error).message}); approval ${approvalId} stays pending, try again`, { cause: err });
  }
  if (holders.some((p) => personMatches(p, person))) return;
  throw new ApproverNotOnCallError(approvalId, person, role, `${person} no longer holds the role ${role} in the on-call roster (held now by ${holders.map((p) => p.name).join(', ') || 'nobody'}); their link cannot decide approval ${approvalId}, which stays pending for a current holder`);
}

/**
 * Why a POST to an approval page is refused before anything is read, or undefined when it is the
 * page's own form. The link is the credential, so a page needs no token; but a decision is posted
 * from the page's own form (403 otherwise), never from another site (a forged cross-site form
 * would carry a victim's link), nor from an opaque origin (`Origin: null`: a sandboxed frame, a
 * data: URL); and as the form sends it, urlencoded (415 otherwise). The local server and the
 * approval-callback Lambda both ask this.
 *
 * @param headers the request's `Origin`, `Sec-Fetch-Site` (absent from non-browser clients) and `Content-Type`
 * @param ownOrigin the pages' own origin: `http://127.0.0.1:8080` locally, `https://<API domain>` in AWS
 */
export function formPostRefusal(headers: { readonly origin?: string; readonly secFetchSite?: string; readonly contentType?: string }, ownOrigin: string): ApprovalPage | undefined {
  const { origin: from, secFetchSite: site } = headers;
  // Sec-Fetch-Site: only the page itself (same-origin) or the person (none: typed, bookmarked);
  // anything else, a sibling subdomain (same-site), another site or a doubled header, is refused.
  if ((from !== undefined && from !== ownOrigin) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
    return {
      status: 403,
      html: `<!doctype html><title>Refused</title><p>This approval form can only be sent from its own page (${escapeHtml(ownOrigin)}), not from ${escapeHtml(String(from ?? site))}. Nothing was changed.</p>`,
      headers: PAGE_HEADERS,
    };
  }
  const type = (headers.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return undefined;
  return { status: 415, html: `<!doctype html><title>Unsupported form</title><p>The approval form is sent as application/x-www-form-urlencoded, not ${escapeHtml(type || 'nothing')}.</p>`, headers: PAGE_HEADERS };
}

// ---- pages ---------------------------------------------------------------------------------

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex, nofollow"><title>${escapeHtml(title)} — sre-agent</title>
<style>body{font:15px system-ui,sans-serif;margin:24px auto;max-width:760px;padding:0 16px;color:#111}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}textarea{width:100%;min-height:5em}button{font-size:16px;padding:8px 16px;margin-top:8px}.approve{background:#15803d;color:#fff}.reject{background:#b91c1c;color:#fff}.note{color:#555}</style></head><body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function summaryTable(rec: ApprovalRecord): string {
  const decided = new Map(rec.decisions.map((d) => [d.role, d]));
  const approvers = rec.approvers
    .map((role) => {
      const d = decided.get(role);
      return `<li><code>${escapeHtml(role)}</code>: ${d ? `${d.decision === 'approve' ? 'approved' : 'rejected'} by ${escapeHtml(d.person)} at ${escapeHtml(d.at)}${d.reason ? ` (${escapeHtml(d.reason)})` : ''}` : 'waiting'}</li>`;
    })
    .join('');
  const rows: [string, string][] = [
    ['Incident', escapeHtml(rec.incidentId)],
    ['Step', `<code>${escapeHtml(rec.step)}</code>`],
    ['Action', `<code>${escapeHtml(rec.action)}</code>`],
    ['Risk', escapeHtml(rec.risk ?? 'not recorded')],
    ['Escalation level', escapeHtml(rec.level)],
    ['Status', escapeHtml(rec.status)],
    ['Approvers', `<ul>${approvers}</ul>needs ${escapeHtml(rec.minApprovals)} approval(s); any rejection rejects the step`],
    ['Expires', escapeHtml(rec.expiresAt)],
    // What exactly is approved: the parameters as resolved from stored state (the approval binds them).
    ['Parameters', rec.params && Object.keys(rec.params).length > 0 ? `<pre>${escapeHtml(JSON.stringify(rec.params, null, 2))}</pre>` : 'none'],
  ];
  if (rec.note) rows.push(['Note', `<strong>${escapeHtml(rec.note)}</strong>`]);
  const analysis = rec.analysis && rec.analysis.length > 0 ? `<h2>调查 / Investigation</h2><ul class="analysis">${rec.analysis.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '';
  return `<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>${rec.message ? `<pre>${escapeHtml(rec.message)}</pre>` : ''}${analysis}`;
}

function confirmationPage(rec: ApprovalRecord, link: VerifiedApprovalLink, params: ApprovalLinkQuery, problem?: string): string {
  const verb = link.decision === 'approve' ? 'Approve' : 'Reject';
  const hidden = SIGNED_FIELDS.map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params[k])}">`).join('');
  const reason =
    link.decision === 'reject'
      ? `<p><label for="reason">Reason (goes to the timeline and the execution's error)</label><br><textarea id="reason" name="reason" required maxlength="${MAX_REASON_CHARS}"></textarea></p>`
      : '';
  return layout(
    `${verb} step ${rec.step}?`,
    `${problem ? `<p class="reject">${escapeHtml(problem)}</p>` : ''}<p>You are deciding as <strong>${escapeHtml(link.person)}</strong> for the role <code>${escapeHtml(link.role)}</code>. Opening this page changed nothing; only the button below decides.</p>
${summaryTable(rec)}
<form method="post">${hidden}${reason}<button type="submit" class="${link.decision}">${verb} as ${escapeHtml(link.person)} (${escapeHtml(link.role)})</button></form>
<p class="note">This link works once and expires at ${escapeHtml(new Date(link.expires).toISOString())}.</p>`,
  );
}

function page(status: number, html: string): ApprovalPage {
  return { status, html, headers: PAGE_HEADERS };
}

// ---- refusals ------------------------------------------------------------------------------

async function refuse(
  deps: ApprovalPageDeps,
  method: string,
  reason: RefusalReason,
  message: string,
  params: ApprovalLinkQuery,
  located?: { incidentId: string; step: string; current?: ApprovalRecord },
): Promise<ApprovalPage> {
  const approvalId = typeof params.id === 'string' ? params.id : undefined;
  if (located) {
    await safeRecord(deps, located.incidentId, {
      at: deps.now(),
      type: 'approval_refused',
      step: located.step,
      // No actor: who sent a refused link is not established (a tampered link claims anyone).
      summary: `approval link refused (${reason}) on ${method} for ${located.step} ${fromText(deps)}: ${message}`,
      data: { approvalId: approvalId ?? null, reason, method, claimed: claimed(params), ...origin(deps) },
    });
  }
  // The record's details only for a link this agent signed: a forged one learns nothing.
  const verified = reason !== 'malformed' && reason !== 'tampered';
  const current = verified && located?.current && located.current.approvalId === approvalId ? summaryTable(located.current) : '';
  return page(REFUSAL_STATUS[reason], layout(REFUSAL_TITLE[reason], `<p>${escapeHtml(message)}</p><p><strong>Nothing was changed.</strong></p>${current}`));
}

/** Why a verified link may not act on this record now, if it may not. */
function refusalFor(rec: ApprovalRecord, link: VerifiedApprovalLink, now: Date): [RefusalReason, string] | undefined {
  if (!rec.approvers.includes(link.role)) return ['wrong_approver', `role "${link.role}" is not an approver of step "${rec.step}" (approvers: ${rec.approvers.join(', ')})`];
  const mine = rec.decisions.find((d) => d.role === link.role);
  if (mine) return ['replayed', `role "${link.role}" already ${mine.decision === 'approve' ? 'approved' : 'rejected'} step "${rec.step}" (${mine.person}, ${mine.at}); a link works once`];
  // One person, one approval: someone holding two approver roles gets a link for each.
  const same = link.decision === 'approve' ? rec.decisions.find((d) => d.decision === 'approve' && personKey(d.person) === personKey(link.person)) : undefined;
  if (same) return ['same_person', `${same.person} already approved step "${rec.step}" as ${same.role}; its approvals must come from two different people`];
  if (rec.status !== 'PENDING') return ['already_decided', `step "${rec.step}" of ${rec.incidentId} is already ${rec.status}`];
  if (Date.parse(rec.expiresAt) <= now.getTime()) return ['expired', `the approval window of step "${rec.step}" closed at ${rec.expiresAt}`];
  return undefined;
}

// ---- deciding ------------------------------------------------------------------------------

/** The outcome of {@link decideAndRelease}. */
export interface DecisionOutcome {
  /** The record after the decision. */
  readonly record: ApprovalRecord;
  /** The execution was told (only when the decision settled the step). */
  readonly released: boolean;
  /** Why telling the execution failed (its task timed out or was escalated). */
  readonly releaseError?: string;
}

/**
 * Records one decision (decideApproval: refused unless PENDING, unexpired, an approver role that
 * has not decided), puts it on the timeline and, when it settles the step, releases the waiting
 * execution. Shared by the approval page and the local JSON API.
 *
 * @throws ApprovalError when the decision is refused; nothing changed then
 */
export async function decideAndRelease(deps: ApprovalPageDeps, approvalId: string, decision: Omit<ApprovalDecision, 'at'>, via: 'link' | 'api'): Promise<DecisionOutcome> {
  const rec = await storeOf(deps).decide(approvalId, decision, deps.now());
  const { person, role, reason } = decision;
  const approvedRoles = new Set(rec.decisions.filter((d) => d.decision === 'approve').map((d) => d.role)).size;
  const summary =
    decision.decision === 'approve'
      ? `${person} (${role}) approved ${rec.step}${reason ? `: ${reason}` : ''}${rec.status === 'PENDING' ? ` (${approvedRoles} of ${rec.minApprovals}; waiting for the others)` : ''}`
      : `${person} (${role}) rejected ${rec.step}${reason ? `: ${reason}` : ''}`;
  await safeRecord(deps, rec.incidentId, {
    at: deps.now(),
    type: decision.decision === 'approve' ? 'approval_approved' : 'approval_rejected_by',
    step: rec.step,
    actor: person,
    summary: via === 'link' ? `${summary} (signed link ${fromText(deps)})` : summary,
    data: { approvalId, role, decision: decision.decision, status: rec.status, via, ...origin(deps) },
  });
  if (rec.status === 'PENDING') return { record: rec, released: false };
  if (rec.action === STATUS_NOTICE_ACTION) {
    await deps.onNoticeDecided?.(rec);
    return { record: rec, released: false };
  }
  try {
    if (rec.status === 'APPROVED') await deps.sendTaskSuccess(rec.taskToken, { approvalId, decisions: rec.decisions });
    else await deps.sendTaskFailure(rec.taskToken, APPROVAL_REJECTED_ERROR, `${person} (${role}) rejected ${rec.step}${reason ? `: ${reason}` : ''}`);
    return { record: rec, released: true };
  } catch (err) {
    // The decision stands (the runtime guard reads the record); the execution had stopped waiting.
    const releaseError = `${(err as Error).name}: ${(err as Error).message}`;
    deps.warn?.(`approval ${approvalId} is ${rec.status} but its execution could not be told`, err);
    await safeRecord(deps, rec.incidentId, {
      at: deps.now(),
      type: 'approval_release_failed',
      step: rec.step,
      summary: `${rec.step} is ${rec.status} but the waiting execution could not be told (${releaseError}); it has timed out or escalated`,
      data: { approvalId, error: releaseError },
    });
    return { record: rec, released: false, releaseError };
  }
}

function resultPage(outcome: DecisionOutcome, link: VerifiedApprovalLink): ApprovalPage {
  const rec = outcome.record;
  const verb = link.decision === 'approve' ? 'approved' : 'rejected';
  const waiting = rec.approvers.filter((r) => !rec.decisions.some((d) => d.role === r));
  const next =
    rec.status === 'PENDING'
      ? `The step still waits for ${rec.minApprovals - new Set(rec.decisions.filter((d) => d.decision === 'approve').map((d) => d.role)).size} more approval(s) (${waiting.join(', ')}).`
      : rec.action === STATUS_NOTICE_ACTION
        ? rec.status === 'APPROVED'
          ? 'The public notice is approved: it goes to the status page (see the incident timeline).'
          : 'The public notice is rejected: nothing is published.'
      : outcome.released
        ? rec.status === 'APPROVED'
          ? 'The step is approved: the playbook goes on.'
          : 'The step is rejected: the playbook skips it.'
        : `The step is ${rec.status}, but the playbook had stopped waiting (${outcome.releaseError ?? 'unknown'}): check the incident timeline.`;
  return page(200, layout(`You ${verb} ${rec.step}`, `<p>Recorded: <strong>${escapeHtml(link.person)}</strong> (${escapeHtml(link.role)}) ${verb} step <code>${escapeHtml(rec.step)}</code>.</p><p>${escapeHtml(next)}</p>${summaryTable(rec)}`));
}

/**
 * Answers one request to `/approvals/{id}`.
 *
 * @param method the HTTP method; only GET and POST are served
 * @param query the query string's parameters with `id` from the path
 * @param body the POST body, `application/x-www-form-urlencoded` (the signed fields, and `reason` for a rejection)
 * @example
 * const page = await approvalPage('GET', { ...url.searchParams, id }, undefined, deps);
 */
export async function approvalPage(method: string, query: ApprovalLinkQuery, body: string | undefined, deps: ApprovalPageDeps): Promise<ApprovalPage> {
  if (method !== 'GET' && method !== 'POST') return { status: 405, html: layout('Method not allowed', '<p>Use the link (GET) and its form (POST).</p>'), headers: { ...PAGE_HEADERS, allow: 'GET, POST' } };
  if (body !== undefined && Buffer.byteLength(body) > MAX_FORM_BYTES) return page(413, layout('Request too large', `<p>The form is at most ${MAX_FORM_BYTES} bytes.</p>`));
  const fields = method === 'POST' ? formFields(body) : {};
  // The path names the approval; the signed fields come from the form when posted, else the query.
  const params: ApprovalLinkQuery = { ...query, ...Object.fromEntries(SIGNED_FIELDS.filter((k) => k in fields).map((k) => [k, fields[k]])), id: query.id };
  const now = deps.now();

  let link: VerifiedApprovalLink;
  try {
    link = await verifyApprovalLink(params, deps.key, now);
  } catch (err) {
    if (!(err instanceof ApprovalLinkError)) throw err;
    const located = err.approvalId ? await storeOf(deps).locate(err.approvalId) : undefined;
    return refuse(deps, method, err.reason, err.message, params, located);
  }

  const located = await storeOf(deps).locate(link.approvalId);
  if (!located) return refuse(deps, method, 'unknown', `no approval with id ${link.approvalId}`, params);
  const rec = located.current;
  if (!rec || rec.approvalId !== link.approvalId) {
    // One id lasts through every level, so only a pointer left by a refused write leads here.
    return refuse(deps, method, 'unknown', `approval ${link.approvalId} is not the approval of step "${located.step}" of ${located.incidentId}`, params, located);
  }
  const refusal = refusalFor(rec, link, now);
  if (refusal) return refuse(deps, method, refusal[0], refusal[1], params, located);
  // The link was sent to whoever held the role then; it decides only while they still do. Checked
  // on the page too, so that someone rotated off learns it before filling in a reason.
  try {
    await assertStillOnCall(deps.oncall, rec.approvalId, link.person, link.role, now);
  } catch (err) {
    if (!(err instanceof ApproverNotOnCallError)) throw err;
    return refuse(deps, method, 'not_on_call', err.message, params, located);
  }

  if (method === 'GET') {
    await safeRecord(deps, rec.incidentId, {
      at: now,
      type: 'approval_viewed',
      step: rec.step,
      // No actor: a mail scanner prefetching the link is not the person; only the POST decides.
      summary: `approval page (${link.decision}) for ${rec.step} opened with the link of ${link.person} (${link.role}) ${fromText(deps)}`,
      data: { approvalId: rec.approvalId, person: link.person, role: link.role, decision: link.decision, ...origin(deps) },
    });
    return page(200, confirmationPage(rec, link, params));
  }

  const reason = fields.reason?.trim();
  if (link.decision === 'reject' && !reason) return page(400, confirmationPage(rec, link, params, 'Give a reason for the rejection; nothing was changed.'));
  if (reason && reason.length > MAX_REASON_CHARS) return page(400, confirmationPage(rec, link, params, `The reason is longer than ${MAX_REASON_CHARS} characters; nothing was changed.`));
  let outcome: DecisionOutcome;
  try {
    outcome = await decideAndRelease(deps, rec.approvalId, { role: link.role, person: link.person, decision: link.decision, ...(reason && link.decision === 'reject' ? { reason } : {}) }, 'link');
  } catch (err) {
    if (!(err instanceof ApprovalError)) throw err;
    // Another decision landed between our read and our write (or the window closed): nothing changed.
    return refuse(deps, method, 'conflict', err.message, params, await storeOf(deps).locate(rec.approvalId));
  }
  return resultPage(outcome, link);
}
