/**
 * The local engine's HTTP API on 127.0.0.1: EventBridge alarm events by POST (the same JSON AWS
 * sends), metrics in PutMetricData shape, incidents with timelines and reports, breakers,
 * executions, pending approvals and their decisions, dead letters, a small dashboard, and the
 * signed-link approval pages (`/approvals/{id}`, the same code as the approval-callback Lambda).
 *
 * Who may call it (the threat model's local half): a request whose Host is not the engine's own
 * address is refused, reads included (DNS rebinding); every state-changing route needs the
 * engine's API token (lib/local/api-token.ts) and JSON routes need `application/json` (a web
 * page cannot send either without a CORS preflight, which is never answered); the signed-link
 * pages need no token (the link is the credential) but their POST must not come from another origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { approvalPage, decideAndRelease, formPostRefusal, type ApprovalPageDeps } from '../approval/callback';
import { buildApprovalLinks } from '../approval/links';
import { rosterPerson } from '../approval/oncall';
import { CHANNELS, type Channel } from '../notify';
import { listApprovals, ApprovalError, type ApprovalRecord } from '../approval/store';
import { listBreakers, resetBreaker } from '../breaker';
import { appendEvent, getIncident, getTimeline, incidentMetrics, listIncidents } from '../incident';
import { recordBreakerReset, resolveByHand } from '../runtime/core';
import { handleAlarmEvent, jsonDepth, listDeadLetters, MAX_EVENT_DEPTH } from '../runtime/intake';
import { DASHBOARD_HEADERS, dashboardAsset, dashboardPage, dashboardState, playbookGraph, reportHtml } from './dashboard';
import type { LocalEngine } from './engine';
import type { ConfigOps } from '../actions/ports';
import type { TicketDesk } from '../actions/tickets/desk';
import { undoConfigChanges } from '../runtime/config-undo';
import { authorizeLocal } from './iam/check';
import { authorizeSigningKey } from './iam/local';
import { runPlaybookNow } from './schedules';
import { onNoticeDecided } from '../runtime/status-notice';
import { statusNoticeDeps } from '../runtime/core';
import { currentReport, parseReportLanguage, type ReportLanguage, type StoredReport } from '../report';
import { LocalEngineError } from './errors';

function ticketDesk(e: LocalEngine): TicketDesk {
  const desk = e.dispatchDeps().targets.tickets as TicketDesk | undefined;
  if (!desk) throw new HttpError(404, 'no ticket desk configured');
  return desk;
}

/** A request the API refuses, with the HTTP status to answer. */
export class HttpError extends Error {
  public constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const MAX_BODY = 1024 * 1024;
/** Nesting accepted in a JSON body (alarm events nest about 6 levels; deeper ones become dead letters). */
const MAX_JSON_DEPTH = MAX_EVENT_DEPTH;

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON body; `deep: true` lets a body nest deeper than MAX_JSON_DEPTH (the intake dead-letters it). */
async function readJson(req: IncomingMessage, options: { deep?: boolean } = {}): Promise<unknown> {
  const text = await readText(req);
  if (!text.trim()) throw new HttpError(400, 'empty request body: expected JSON');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`);
  }
  if (!options.deep && jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new HttpError(400, `request body nests more than ${MAX_JSON_DEPTH} levels deep`);
  return value;
}

/** A report as `?format=md` (default), `json` or `html` (the dashboard), in `?lang=zh-CN` (default) or `en`. */
async function reportResponse(report: StoredReport, url: URL): Promise<[number, unknown, string?, Readonly<Record<string, string>>?]> {
  let lang: ReportLanguage;
  try {
    lang = parseReportLanguage(url.searchParams.get('lang') ?? undefined);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  const format = url.searchParams.get('format') ?? 'md';
  if (format === 'json') return [200, report.json];
  if (format === 'html') return [200, await reportHtml(report.markdown[lang]), 'text/html', DASHBOARD_HEADERS];
  if (format === 'md' || format === 'markdown') return [200, report.markdown[lang], 'text/markdown'];
  throw new HttpError(400, `format "${format}" is not md, json or html`);
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json', headers: Readonly<Record<string, string>> = {}): void {
  const text = type === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : String(body);
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', ...headers });
  res.end(text);
}

type Handler = (engine: LocalEngine, match: RegExpExecArray, req: IncomingMessage, url: URL, server: ServerContext) => Promise<[number, unknown, string?, Readonly<Record<string, string>>?]>;

/** What every handler may need to know about the server answering. */
interface ServerContext {
  readonly origin: string;
  readonly token: string;
}

/** The approval page's I/O on the local engine: its tables, its key, its task tokens, its clock. */
function approvalDeps(engine: LocalEngine, req?: IncomingMessage): ApprovalPageDeps {
  const userAgent = req?.headers['user-agent'];
  return {
    doc: engine.doc,
    tables: engine.tables,
    key: engine.signingKey,
    now: () => engine.now(),
    // A link decides only while its person holds its role in this engine's roster.
    oncall: engine.oncall,
    // Checked as SendTaskSuccess / SendTaskFailure when the engine runs under the IAM check.
    sendTaskSuccess: async (token, output) => {
      await authorizeLocal([{ action: 'states:SendTaskSuccess', resource: '*' }], 'SendTaskSuccess');
      engine.sendTaskSuccess(token, output);
    },
    sendTaskFailure: async (token, error, cause) => {
      await authorizeLocal([{ action: 'states:SendTaskFailure', resource: '*' }], 'SendTaskFailure');
      engine.sendTaskFailure(token, error, cause);
    },
    record: (incidentId, event) => appendEvent(engine.doc, engine.tables, incidentId, event),
    onNoticeDecided: (rec) => onNoticeDecided(statusNoticeDeps(engine.coreDeps()), rec),
    from: { ...(req?.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}), ...(userAgent ? { userAgent } : {}) },
  };
}

/** GET/POST /approvals/{id}: the signed-link page, exactly as the approval-callback Lambda serves it. */
const approvalPageRoute: Handler = async (e, m, req, url, srv) => {
  let id: string;
  try {
    id = decodeURIComponent(m[1] ?? '');
  } catch {
    id = m[1] ?? '';
  }
  let body: string | undefined;
  if (req.method === 'POST') {
    // The link is the credential, so no token; but a decision is posted from the page itself
    // (the same check as the approval-callback Lambda's).
    const site = req.headers['sec-fetch-site'];
    const refused = formPostRefusal({ origin: req.headers.origin, secFetchSite: Array.isArray(site) ? site.join(', ') : site, contentType: req.headers['content-type'] }, srv.origin);
    if (refused) return [refused.status, refused.html, 'text/html', refused.headers];
    body = await readText(req);
  }
  // What the approval-callback Lambda does in AWS, under its role when the IAM check is on.
  const page = await e.asFunction('approvalCallback', async () => {
    await authorizeSigningKey();
    return approvalPage(req.method ?? 'GET', { ...Object.fromEntries(url.searchParams), id }, body, approvalDeps(e, req));
  });
  return [page.status, page.html, 'text/html', page.headers];
};

const ROUTES: [string, RegExp, Handler][] = [
  // The dashboard: a page without data or secrets, its assets, and the reads its script polls.
  ['GET', /^\/$/, async () => [200, dashboardPage(), 'text/html', DASHBOARD_HEADERS]],
  [
    'GET',
    /^\/assets\/[a-z.-]{1,40}$/,
    async (_e, m) => {
      const asset = dashboardAsset(m[0]);
      if (!asset) throw new HttpError(404, `no asset ${m[0]}`);
      return [200, asset.body, asset.type, { ...DASHBOARD_HEADERS, 'cache-control': 'max-age=300' }];
    },
  ],
  ['GET', /^\/favicon\.ico$/, async () => [204, '', 'image/x-icon']],
  ['GET', /^\/api\/dashboard$/, async (e) => [200, await dashboardState(e)]],
  [
    'GET',
    /^\/api\/playbooks\/([a-z0-9-]{1,80})\/graph$/,
    async (e, m) => {
      const asl = e.aslOf(m[1] as string);
      if (!asl) throw new HttpError(404, `no playbook "${m[1]}" on this engine`);
      return [200, playbookGraph(asl)];
    },
  ],
  [
    'POST',
    /^\/events$/,
    async (e, _m, req) => {
      const body = await readJson(req, { deep: true });
      const events = Array.isArray(body) ? body : [body];
      const deps = e.intakeDeps();
      // What the trigger Lambda does in AWS, under its role when the IAM check is on.
      const results = await Promise.all(events.map((ev) => e.asFunction('trigger', () => handleAlarmEvent(ev, deps))));
      return [results.every((r) => r.outcome === 'dead_letter') ? 400 : 202, { results }];
    },
  ],
  [
    'POST',
    /^\/api\/metrics$/,
    async (e, _m, req) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      if (body && typeof body === 'object' && 'MetricData' in body) e.metrics.putMetricData(body as never);
      else e.metrics.put(body as never);
      return [202, { ok: true }];
    },
  ],
  ['GET', /^\/api\/incidents$/, async (e, _m, _r, url) => [200, await listIncidents(e.doc, e.tables, { status: (url.searchParams.get('status') ?? undefined) as never, limit: Number(url.searchParams.get('limit') ?? 100) })]],
  [
    'GET',
    /^\/api\/incidents\/(INC-\d{8}-\d{3,})$/,
    async (e, m) => {
      const incident = await getIncident(e.doc, e.tables, m[1]);
      return [200, { incident, metrics: incidentMetrics(incident), timeline: await getTimeline(e.doc, e.tables, m[1]) }];
    },
  ],
  [
    'GET',
    /^\/api\/incidents\/(INC-\d{8}-\d{3,})\/report$/,
    async (e, m, _r, url) => {
      await getIncident(e.doc, e.tables, m[1]); // 404 naming an unknown incident
      // A running incident's report is built now from its stored state (in progress, not stored); a closed
      // one's is the stored report, rewritten first when the incident changed since (a hand resolve after L4).
      const report = await e.asFunction('report', () => currentReport(e.reportDeps(), m[1]));
      if (!report) throw new HttpError(404, `no report stored for ${m[1]} (closed; POST this address, or \`sre-agent report ${m[1]}\`, writes one now)`);
      return reportResponse(report, url);
    },
  ],
  [
    'POST',
    /^\/api\/incidents\/(INC-\d{8}-\d{3,})\/report$/,
    async (e, m, _r, url) => {
      await getIncident(e.doc, e.tables, m[1]);
      const report = await e.asFunction('report', () => currentReport(e.reportDeps(), m[1], { write: true }));
      return reportResponse(report!, url);
    },
  ],
  [
    'POST',
    /^\/api\/incidents\/(INC-\d{8}-\d{3,})\/resolve$/,
    async (e, m, req) => {
      const body = (await readJson(req)) as { as?: string; reason?: string };
      if (!body.as || !body.reason) throw new HttpError(400, 'body needs "as" (who resolves it) and "reason"');
      const incident = await getIncident(e.doc, e.tables, m[1]);
      if (incident.status === 'RESOLVED' || incident.status === 'FAILED') throw new HttpError(409, `${m[1]} is already ${incident.status}`);
      await resolveByHand(e.coreDeps(), incident.id, { person: body.as, reason: body.reason }, (arn, cause) => e.stopExecution(arn, cause));
      return [200, await getIncident(e.doc, e.tables, m[1])];
    },
  ],
  ['GET', /^\/api\/breakers$/, async (e) => [200, await listBreakers(e.doc, e.tables, e.breakerConfig, e.now())]],
  [
    'POST',
    /^\/api\/breakers\/reset$/,
    async (e, _m, req) => {
      const body = (await readJson(req)) as { service?: string; actor?: string };
      if (body.service !== undefined && (typeof body.service !== 'string' || body.service === '')) throw new HttpError(400, '"service" must be a service name (omit it for the global breaker)');
      const changes = await resetBreaker(e.doc, e.tables, e.breakerConfig, e.now(), { service: body.service, actor: body.actor ?? 'api' });
      const breaker = body.service === undefined ? 'the global breaker' : `the breaker of ${body.service}`;
      return [200, { changes, recordedOn: await recordBreakerReset(e.coreDeps(), changes), note: changes.length ? `${breaker} is CLOSED` : `${breaker} was not open: nothing changed` }];
    },
  ],
  // Issue 11 (data adapters): tickets kept with the incident, config undo, playbooks started now.
  ['GET', /^\/api\/tickets$/, async (e, _m, _r, url) => [200, await ticketDesk(e).list(url.searchParams.get('incident') ?? undefined)]],
  ['POST', /^\/api\/tickets\/([^/]{1,100})\/close$/, async (e, m) => [200, await ticketDesk(e).close(m[1] as string)]],
  [
    'POST',
    /^\/api\/incidents\/(INC-\d{8}-\d{3,})\/config\/undo$/,
    async (e, m, req) => {
      const body = (await readJson(req)) as { as?: string };
      return [200, await undoConfigChanges(m[1] as string, { doc: e.doc, tables: e.tables, config: e.dispatchDeps().targets.config as ConfigOps | undefined, now: e.now }, body.as ? `person:${body.as}` : 'api')];
    },
  ],
  ['POST', /^\/api\/playbooks\/([a-z0-9-]{1,80})\/run$/, async (e, m) => [202, await runPlaybookNow(e, m[1] as string, e.now())]],
  ['GET', /^\/api\/executions$/, async (e) => [200, [...e.executions.values()].map(({ done: _d, ...x }) => x)]],
  ['GET', /^\/api\/approvals$/, async (e, _m, _r, url) => [200, (await listApprovals(e.doc, e.tables, (url.searchParams.get('status') ?? undefined) as never)).map(({ taskToken: _t, ...a }) => a)]],
  [
    'POST',
    /^\/api\/approvals\/([0-9a-f-]{36})\/(approve|reject)$/,
    async (e, m, req) => {
      const body = (await readJson(req)) as { as?: string; role?: string; reason?: string };
      if (!body.as || !body.role) throw new HttpError(400, 'body needs "as" (the person) and "role" (one of the step\'s approver roles)');
      return [200, await decide(e, m[1], m[2] as 'approve' | 'reject', body.as, body.role, body.reason)];
    },
  ],
  ['GET', /^\/api\/dead-letters$/, async (e) => [200, await listDeadLetters(e.doc, e.tables)]],
  // Both carry signed approval links (credentials): token only (see SECRET_READS).
  ['GET', /^\/api\/approvals\/pending$/, async (e) => [200, await pendingWithLinks(e)]],
  [
    'GET',
    /^\/api\/outbox$/,
    async (e, _m, _r, url) => {
      if (!e.outbox) throw new HttpError(404, 'this engine keeps no outbox (started with --no-outbox)');
      const channel = url.searchParams.get('channel') ?? undefined;
      if (channel !== undefined && !(CHANNELS as readonly string[]).includes(channel)) throw new HttpError(400, `channel "${channel}" is not one of ${CHANNELS.join(', ')}`);
      const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : undefined;
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new HttpError(400, `limit must be a positive integer, got "${url.searchParams.get('limit')}"`);
      return [200, e.outbox.list({ incidentId: url.searchParams.get('incident') ?? undefined, channel: channel as Channel | undefined, limit })];
    },
  ],
  ['GET', /^\/approvals\/([^/]{1,200})$/, approvalPageRoute],
  ['POST', /^\/approvals\/([^/]{1,200})$/, approvalPageRoute],
];

/** Whether the API answers `method pathname` with a route (the README's route list is tested against it). */
export function hasRoute(method: string, pathname: string): boolean {
  return ROUTES.some(([m, re]) => m === method && re.test(pathname));
}

/**
 * Records a decision, and when it settles the step, releases the waiting execution:
 * SendTaskSuccess on approval, SendTaskFailure(ApprovalRejectedError) on rejection. The same
 * checks as the signed-link page: the person holds the role in the on-call roster now (a link
 * was sent only to such people), and decideApproval's PENDING, unexpired, an approver role that
 * has not decided yet.
 */
export async function decide(
  engine: LocalEngine,
  approvalId: string,
  decision: 'approve' | 'reject',
  person: string,
  role: string,
  reason?: string,
): Promise<{ status: string; step: string; incidentId: string; released: boolean; releaseError?: string }> {
  // Without a signed link, who decides is checked against the roster, as the link's was when it was sent.
  const holder = await rosterPerson(engine.oncall, person, role, engine.now());
  const { record, released, releaseError } = await decideAndRelease(approvalDeps(engine), approvalId, { role, person: holder.name, decision, ...(reason ? { reason } : {}) }, 'api');
  return { status: record.status, step: record.step, incidentId: record.incidentId, released, ...(releaseError ? { releaseError } : {}) };
}

/** A pending approval, who may decide it now (the roster's holders of each approver role) and their signed links. */
export interface PendingApproval {
  readonly approvalId: string;
  readonly incidentId: string;
  readonly step: string;
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly expiresAt: string;
  readonly decisions: readonly unknown[];
  readonly level: number;
  /** The approval request as the approvers read it. */
  readonly message?: string;
  readonly mayDecide: readonly { readonly role: string; readonly person: string; readonly approveUrl: string; readonly rejectUrl: string }[];
  /** Approver roles nobody holds now (their decision can only come after an override). */
  readonly unheld: readonly string[];
}

async function pendingWithLinks(engine: LocalEngine): Promise<PendingApproval[]> {
  const now = engine.now();
  const out: PendingApproval[] = [];
  for (const rec of await listApprovals(engine.doc, engine.tables, 'PENDING')) {
    const mayDecide: PendingApproval['mayDecide'][number][] = [];
    const unheld: string[] = [];
    for (const role of rec.approvers) {
      const holders = engine.oncall ? await engine.oncall.whoIs(role, now) : [];
      if (holders.length === 0) unheld.push(role);
      for (const p of holders) mayDecide.push({ role, person: p.name, ...(await localApprovalLinks(engine, rec, p.name, role)) });
    }
    out.push({ approvalId: rec.approvalId, incidentId: rec.incidentId, step: rec.step, approvers: rec.approvers, minApprovals: rec.minApprovals, expiresAt: rec.expiresAt, decisions: rec.decisions ?? [], level: rec.level, ...(rec.message ? { message: rec.message } : {}), mayDecide, unheld });
  }
  return out;
}

/** The URL of the server each engine is served by (set by startServer, cleared by close). */
const serverUrls = new WeakMap<LocalEngine, string>();

/**
 * Signed approve/reject links to this engine's local server, for the CLI and local notifiers.
 *
 * @throws Error when no server is running for the engine (the links would point nowhere)
 * @throws ApprovalError when `role` is not one of the record's approvers
 */
export async function localApprovalLinks(engine: LocalEngine, record: ApprovalRecord, person: string, role: string): Promise<{ approveUrl: string; rejectUrl: string }> {
  const baseUrl = serverUrls.get(engine);
  if (!baseUrl) throw new LocalEngineError(`no local server is running for this engine: start it (startServer) before building links for approval ${record.approvalId}`, record.approvalId);
  return buildApprovalLinks(baseUrl, record, person, role, engine.signingKey);
}

export interface LocalServer {
  readonly url: string;
  /** The API token state-changing routes require. */
  readonly token: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Reads that return signed approval links (whoever holds one can decide as its person), and everything under them. */
const SECRET_READS = ['/api/outbox', '/api/approvals/pending'];

/** Routes anyone on the machine may call without the token: reads (but SECRET_READS), and the signed-link pages. */
function needsToken(method: string, pathname: string): boolean {
  if (method === 'GET') return SECRET_READS.some((p) => pathname === p || pathname.startsWith(`${p}/`));
  return !pathname.startsWith('/approvals/');
}

/** Routes that take a JSON body. */
function takesJson(method: string, pathname: string): boolean {
  return method === 'POST' && !pathname.startsWith('/approvals/');
}

/** Compares a presented token in constant time. */
function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request presents: `Authorization: Bearer <token>` or `x-sre-agent-token`. */
function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = req.headers['x-sre-agent-token'];
  return typeof header === 'string' ? header.trim() : undefined;
}

export interface ServerOptions {
  /** @default 8787 (0 picks a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /**
   * The token state-changing routes require.
   * @default - a random one, held in memory (`LocalServer.token`)
   */
  readonly token?: string;
}

export async function startServer(engine: LocalEngine, options: ServerOptions = {}): Promise<LocalServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  let ctx: ServerContext = { origin: '', token };
  let allowedHosts = new Set<string>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends Host: evil.example.
    const host = String(req.headers.host ?? '').toLowerCase();
    if (!allowedHosts.has(host)) {
      send(res, 421, { error: `Host "${host.slice(0, 100)}" is not this engine's address (${[...allowedHosts].join(', ')})` });
      return;
    }
    const method = req.method ?? 'GET';
    if (needsToken(method, url.pathname) && !tokenMatches(presentedToken(req), token)) {
      send(res, 401, { error: `${method} ${url.pathname} needs the engine's API token (Authorization: Bearer <token>; the CLI reads it from the data folder's api-token, or the runtime file of a --memory engine)` });
      return;
    }
    if (takesJson(method, url.pathname)) {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        send(res, 415, { error: `${method} ${url.pathname} takes application/json, not ${type || 'no content type'}` });
        return;
      }
    }
    const route = ROUTES.find(([m, re]) => m === method && re.test(url.pathname));
    if (!route) {
      send(res, 404, { error: `no route ${method} ${url.pathname}` });
      return;
    }
    route[2](engine, route[1].exec(url.pathname)!, req, url, ctx)
      .then(([status, body, type, headers]) => send(res, status, body, type, headers))
      .catch((err: Error) => {
        const status = err instanceof HttpError ? err.status
          : err.name.endsWith('NotFoundError') ? 404
          : err instanceof ApprovalError ? 409
          : err.name === 'InvalidMetricDataError' || err.name === 'UnknownMetricError' ? 400 : 500;
        send(res, status, { error: err.message, name: err.name });
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  allowedHosts = new Set([`${host.includes(':') ? `[${host}]` : host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  ctx = { origin: url, token };
  serverUrls.set(engine, url);
  return {
    url,
    token,
    server,
    close: () =>
      new Promise((r) => {
        if (serverUrls.get(engine) === url) serverUrls.delete(engine);
        server.close(() => r());
      }),
  };
}
