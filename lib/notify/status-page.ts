/**
 * The public status page (seed §4.1, level 4: 对外公告). At level 4 the agent drafts the notice
 * (affected features, start time, current status, in zh-CN and en); it is published only once a
 * director or the CTO approves it, and later updates and the resolution follow the incident.
 * This module writes the notice and hands it to a publisher: Atlassian Statuspage's REST API, a
 * generic webhook, or none (the notice is then only kept with the incident).
 */
import type { Severity } from '../incident/model';

/** The approval record of an incident's notice: `#` cannot appear in a playbook step (an ASL state name). */
export const STATUS_NOTICE_STEP = '#status-page';
/** The action a notice's approval binds; no execution waits on it (no task token). */
export const STATUS_NOTICE_ACTION = 'publish_status_notice';

/** Where a notice stands, in Statuspage's words (its incident statuses). */
export const NOTICE_PHASES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type NoticePhase = (typeof NOTICE_PHASES)[number];

/** A user-facing feature the notice names, in both languages, with its Statuspage component id when it has one. */
export interface StatusComponent {
  readonly zh: string;
  readonly en: string;
  /** Statuspage component id (`playbooks/status-page.yaml`). */
  readonly id?: string;
}

export interface NoticeText {
  readonly title: string;
  readonly body: string;
}

/** One version of the public notice of an incident. */
export interface StatusNotice {
  readonly incidentId: string;
  readonly phase: NoticePhase;
  /** Statuspage's impact, from the incident's severity. */
  readonly impact: 'minor' | 'major' | 'critical';
  /** When users started to be affected (the anomaly's start), ISO. */
  readonly startedAt: string;
  /** Set with the resolution notice, ISO. */
  readonly resolvedAt?: string;
  readonly components: readonly StatusComponent[];
  readonly zh: NoticeText;
  readonly en: NoticeText;
}

/** What a notice is drafted from: the stored incident, never a caller's claim. */
export interface NoticeInput {
  readonly incidentId: string;
  readonly severity: Severity;
  readonly startedAt: Date;
  readonly phase: NoticePhase;
  readonly components: readonly StatusComponent[];
  readonly resolvedAt?: Date;
}

const PHASE_TEXT: Readonly<Record<NoticePhase, { zh: string; en: string }>> = {
  investigating: { zh: '我们正在调查原因', en: 'We are investigating the cause' },
  identified: { zh: '原因已定位，正在修复', en: 'The cause has been identified and a fix is being applied' },
  monitoring: { zh: '修复已生效，我们正在持续观察', en: 'A fix is in place and we are monitoring the results' },
  resolved: { zh: '服务已恢复正常', en: 'The service has recovered' },
};

/** Statuspage's impact for a severity: what users are told about how bad it is. */
export function noticeImpact(severity: Severity): StatusNotice['impact'] {
  return severity === 'CRITICAL' ? 'critical' : severity === 'HIGH' ? 'major' : 'minor';
}

/** `2026-02-09 14:15 UTC`: what a user reads, in every language. */
function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function names(components: readonly StatusComponent[], lang: 'zh' | 'en'): string {
  if (components.length === 0) return lang === 'zh' ? '部分服务' : 'some services';
  const list = components.map((c) => c[lang]);
  if (lang === 'zh') return list.join('、');
  return list.length === 1 ? list[0]! : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/**
 * The notice for the incident's current phase, in zh-CN and en. It names features and times,
 * never internal details (hosts, causes under investigation, people).
 * @example draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt, phase: 'investigating', components: [{ zh: '现货交易', en: 'Spot trading' }] })
 */
export function draftNotice(input: NoticeInput): StatusNotice {
  const zhNames = names(input.components, 'zh');
  const enNames = names(input.components, 'en');
  const since = utc(input.startedAt);
  const phase = PHASE_TEXT[input.phase];
  const resolved = input.phase === 'resolved';
  const until = input.resolvedAt ? utc(input.resolvedAt) : undefined;
  return {
    incidentId: input.incidentId,
    phase: input.phase,
    impact: noticeImpact(input.severity),
    startedAt: input.startedAt.toISOString(),
    ...(input.resolvedAt ? { resolvedAt: input.resolvedAt.toISOString() } : {}),
    components: input.components,
    zh: {
      title: resolved ? `${zhNames}已恢复` : `${zhNames}出现异常`,
      body: resolved
        ? `${zhNames}自 ${since} 起出现的异常已于 ${until ?? '现在'} 恢复。${phase.zh}。给您带来的不便，我们深表歉意。`
        : `自 ${since} 起，${zhNames}出现异常，部分用户可能受到影响。当前状态：${phase.zh}。我们会在此持续更新。`,
    },
    en: {
      title: resolved ? `Resolved: ${enNames}` : `Degraded service: ${enNames}`,
      body: resolved
        ? `The disruption of ${enNames} that began at ${since} was resolved at ${until ?? 'this time'}. ${phase.en}. We apologise for the inconvenience.`
        : `Since ${since}, ${enNames} ${input.components.length === 1 ? 'has' : 'have'} been degraded and some users may be affected. Current status: ${phase.en}. We will post updates here.`,
    },
  };
}

/** A publisher's answer: the notice's id on the status page (updates go to it) and its address. */
export interface PublishedNotice {
  readonly id: string;
  readonly url?: string;
}

/** Where approved notices go. */
export interface StatusPagePublisher {
  /** For the timeline, e.g. `statuspage:kctbh9vrtdwd`. */
  readonly name: string;
  /** Publishes a first notice (no `previous`) or an update of the one published as `previous`. */
  publish(notice: StatusNotice, previous?: PublishedNotice): Promise<PublishedNotice>;
}

/** A status page that did not take the notice: the message names the page and its answer. */
export class StatusPageError extends Error {
  override readonly name: string = 'StatusPageError';
  public readonly target: string;
  public constructor(message: string, options: { target: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.target = options.target;
  }
}

/** A failure worth trying again (network, 5xx, 429). */
export class TransientStatusPageError extends StatusPageError {
  override readonly name = 'TransientStatusPageError';
}

type Fetch = typeof fetch;

async function send(name: string, fetcher: Fetch, url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetcher(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new TransientStatusPageError(`${name}: ${init.method ?? 'GET'} ${url} failed: ${(err as Error).message}`, { target: url, cause: err });
  }
  const text = await res.text();
  if (res.status >= 500 || res.status === 429) throw new TransientStatusPageError(`${name}: ${url} answered ${res.status}: ${text.slice(0, 200)}`, { target: url });
  if (res.status >= 300) throw new StatusPageError(`${name}: ${url} answered ${res.status}: ${text.slice(0, 300)}`, { target: url });
  try {
    return text ? (JSON.parse(text) as unknown) : {};
  } catch {
    return {};
  }
}

/** Statuspage's component status for an impact. */
const COMPONENT_STATUS: Readonly<Record<StatusNotice['impact'], string>> = { minor: 'degraded_performance', major: 'partial_outage', critical: 'major_outage' };

export interface AtlassianStatuspageOptions {
  readonly pageId: string;
  readonly apiKey: string;
  /** @default 'https://api.statuspage.io' */
  readonly baseUrl?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: Fetch;
}

/**
 * Atlassian Statuspage REST v1: `POST /v1/pages/{page_id}/incidents` for the first notice,
 * `PATCH /v1/pages/{page_id}/incidents/{incident_id}` for its updates, `Authorization: OAuth <key>`
 * (https://developer.statuspage.io/#tag/incidents). One page speaks one language: the body carries
 * both, Chinese first.
 */
export class AtlassianStatuspage implements StatusPagePublisher {
  public readonly name: string;
  public constructor(private readonly o: AtlassianStatuspageOptions) {
    this.name = `statuspage:${o.pageId}`;
  }

  public async publish(notice: StatusNotice, previous?: PublishedNotice): Promise<PublishedNotice> {
    const withIds = notice.components.filter((c): c is StatusComponent & { id: string } => Boolean(c.id));
    const componentStatus = notice.phase === 'resolved' ? 'operational' : COMPONENT_STATUS[notice.impact];
    const incident = {
      name: `${notice.zh.title} / ${notice.en.title}`,
      status: notice.phase,
      body: `${notice.zh.body}\n\n${notice.en.body}`,
      impact_override: notice.impact,
      deliver_notifications: true,
      component_ids: withIds.map((c) => c.id),
      components: Object.fromEntries(withIds.map((c) => [c.id, componentStatus])),
    };
    const base = `${(this.o.baseUrl ?? 'https://api.statuspage.io').replace(/\/$/, '')}/v1/pages/${encodeURIComponent(this.o.pageId)}/incidents`;
    const url = previous ? `${base}/${encodeURIComponent(previous.id)}` : base;
    const res = (await send(this.name, this.o.fetch ?? fetch, url, {
      method: previous ? 'PATCH' : 'POST',
      headers: { authorization: `OAuth ${this.o.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ incident }),
    }, this.o.timeoutMs ?? 5000)) as { id?: string; shortlink?: string };
    const id = res.id ?? previous?.id;
    if (!id) throw new StatusPageError(`${this.name}: the incident was created without an id in the answer`, { target: this.name });
    return { id, ...(res.shortlink ? { url: res.shortlink } : previous?.url ? { url: previous.url } : {}) };
  }
}

export interface WebhookStatusPageOptions {
  readonly url: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: Fetch;
}

/**
 * A generic JSON webhook: `POST {url}` with `{ notice, previousId }`; the answer may carry
 * `{ id, url }` (else the incident id names the notice).
 */
export class WebhookStatusPage implements StatusPagePublisher {
  public readonly name: string;
  public constructor(private readonly o: WebhookStatusPageOptions) {
    this.name = `webhook:${new URL(o.url).host}`;
  }

  public async publish(notice: StatusNotice, previous?: PublishedNotice): Promise<PublishedNotice> {
    const res = (await send(this.name, this.o.fetch ?? fetch, this.o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ notice, previousId: previous?.id ?? null }),
    }, this.o.timeoutMs ?? 5000)) as { id?: unknown; url?: unknown };
    const id = typeof res.id === 'string' && res.id ? res.id : (previous?.id ?? notice.incidentId);
    const url = typeof res.url === 'string' ? res.url : previous?.url;
    return { id, ...(url ? { url } : {}) };
  }
}
