/**
 * Ticket systems the desk can hand tickets to: Jira Cloud (REST v3 create issue, priority
 * mapping, labels that carry the incident) and a generic JSON webhook. Both with a timeout;
 * 5xx and network failures are transient (retried), 4xx are not.
 */
import { ActionError, TargetNotConfiguredError, TransientTargetError } from '../errors';
import type { TicketRequest } from '../ports';
import type { TicketBackend } from './desk';

/** The agent's priorities → Jira's default priority scheme. */
export const JIRA_PRIORITIES: Readonly<Record<string, string>> = { CRITICAL: 'Highest', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low' };

type Fetch = typeof fetch;

async function send(name: string, fetcher: Fetch, url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetcher(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new TransientTargetError(`${name}: ${init.method ?? 'GET'} ${url} failed: ${(err as Error).message}`, { target: url, cause: err });
  }
  const text = await res.text();
  if (res.status >= 500 || res.status === 429) throw new TransientTargetError(`${name}: ${url} answered ${res.status}: ${text.slice(0, 200)}`, { target: url });
  if (res.status >= 300) throw new ActionError(`${name}: ${url} answered ${res.status}: ${text.slice(0, 300)}`, { target: url });
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

export interface JiraOptions {
  /** `https://<site>.atlassian.net` */
  readonly baseUrl: string;
  readonly projectKey: string;
  /** Atlassian account e-mail and API token (basic auth). */
  readonly email: string;
  readonly apiToken: string;
  /** @default 'Task' */
  readonly issueType?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: Fetch;
}

/** Atlassian Document Format: one paragraph per line. */
function adf(text: string) {
  return { type: 'doc', version: 1, content: text.split('\n').filter((l) => l.trim()).map((line) => ({ type: 'paragraph', content: [{ type: 'text', text: line }] })) };
}

/**
 * The Jira credentials of a Secrets Manager secret (`{"email","apiToken"}`), or an error naming the
 * secret and what it lacks: a missing secret must not become a Basic header of "undefined:undefined".
 * @throws TargetNotConfiguredError when the secret is missing, not JSON, or lacks either field
 */
export function jiraCredentials(raw: string | undefined, secretId: string): { email: string; apiToken: string } {
  const fix = `store {"email":"<Atlassian account e-mail>","apiToken":"<API token>"} in the secret ${secretId}`;
  if (!raw) throw new TargetNotConfiguredError(`create_ticket: Jira is configured but the secret ${secretId} is missing or empty; ${fix}`, { target: secretId });
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new TargetNotConfiguredError(`create_ticket: the secret ${secretId} is not JSON; ${fix}`, { target: secretId, cause: err });
  }
  const { email, apiToken } = (doc ?? {}) as { email?: unknown; apiToken?: unknown };
  const missing = [typeof email === 'string' && email ? '' : 'email', typeof apiToken === 'string' && apiToken ? '' : 'apiToken'].filter(Boolean);
  if (missing.length > 0) throw new TargetNotConfiguredError(`create_ticket: the secret ${secretId} has no ${missing.join(' and no ')}; ${fix}`, { target: secretId });
  return { email: email as string, apiToken: apiToken as string };
}

export class JiraTickets implements TicketBackend {
  public readonly name: string;
  public constructor(private readonly o: JiraOptions) {
    this.name = `jira:${o.projectKey}`;
    if (!o.email || !o.apiToken) throw new TargetNotConfiguredError(`create_ticket: Jira ${o.baseUrl} has no ${!o.email ? 'email' : 'apiToken'} to authenticate with`, { target: this.name });
  }

  private headers() {
    return { authorization: `Basic ${Buffer.from(`${this.o.email}:${this.o.apiToken}`).toString('base64')}`, 'content-type': 'application/json', accept: 'application/json' };
  }

  public async open(t: TicketRequest): Promise<{ id: string; url?: string }> {
    const description = [t.description ?? '', `Incident: ${t.incidentId}`, t.assignee ? `Assignee (team): ${t.assignee}` : ''].join('\n');
    const body = {
      fields: {
        project: { key: this.o.projectKey },
        issuetype: { name: this.o.issueType ?? 'Task' },
        summary: t.title.slice(0, 255),
        description: adf(description),
        priority: { name: JIRA_PRIORITIES[t.priority] ?? 'Medium' },
        // Jira labels take no spaces.
        labels: ['sre-agent', t.incidentId, ...(t.assignee ? [`team-${t.assignee}`] : [])].map((l) => l.replace(/\s+/g, '-')),
      },
    };
    const res = (await send(this.name, this.o.fetch ?? fetch, `${this.o.baseUrl.replace(/\/$/, '')}/rest/api/3/issue`, { method: 'POST', headers: this.headers(), body: JSON.stringify(body) }, this.o.timeoutMs ?? 5000)) as { key?: string; id?: string };
    if (!res.key) throw new ActionError(`${this.name}: create issue answered without a key`, { target: this.name });
    return { id: res.key, url: `${this.o.baseUrl.replace(/\/$/, '')}/browse/${res.key}` };
  }

  public async isOpen(id: string): Promise<boolean> {
    const res = (await send(this.name, this.o.fetch ?? fetch, `${this.o.baseUrl.replace(/\/$/, '')}/rest/api/3/issue/${encodeURIComponent(id)}?fields=status`, { method: 'GET', headers: this.headers() }, this.o.timeoutMs ?? 5000)) as { fields?: { status?: { statusCategory?: { key?: string } } } };
    return res.fields?.status?.statusCategory?.key !== 'done';
  }
}

export interface WebhookTicketOptions {
  readonly url: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: Fetch;
}

/** POSTs `{title, priority, description, assignee, incident_id, dedupe_key}`; the answer's `id` / `url` name the ticket. */
export class WebhookTickets implements TicketBackend {
  public readonly name: string;
  public constructor(private readonly o: WebhookTicketOptions) {
    this.name = `webhook:${new URL(o.url).host}`;
  }

  public async open(t: TicketRequest): Promise<{ id: string; url?: string }> {
    const res = (await send(this.name, this.o.fetch ?? fetch, this.o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: t.title, priority: t.priority, description: t.description ?? null, assignee: t.assignee ?? null, incident_id: t.incidentId, dedupe_key: t.dedupeKey }),
    }, this.o.timeoutMs ?? 5000)) as { id?: unknown; url?: unknown };
    return { id: typeof res.id === 'string' || typeof res.id === 'number' ? String(res.id) : `${this.name}:${t.dedupeKey}`, ...(typeof res.url === 'string' ? { url: res.url } : {}) };
  }
}
