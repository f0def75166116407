/**
 * The local engine's HTTP API on 127.0.0.1: EventBridge alarm events by POST (the same JSON AWS
 * sends), metrics in PutMetricData shape, incidents with timelines and reports, breakers,
 * executions, pending approvals and their decisions, dead letters, and a small dashboard.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decideApproval, getApproval, listApprovals, ApprovalError } from '../approval/store';
import { listBreakers, resetBreaker } from '../breaker';
import { appendEvent, getIncident, getTimeline, incidentMetrics, listIncidents } from '../incident';
import { handleAlarmEvent, listDeadLetters } from '../runtime/intake';
import { renderDashboard } from './dashboard';
import type { LocalEngine } from './engine';

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

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new HttpError(400, 'empty request body: expected JSON');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : String(body);
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(text);
}

type Handler = (engine: LocalEngine, match: RegExpExecArray, req: IncomingMessage, url: URL) => Promise<[number, unknown, string?]>;

const ROUTES: [string, RegExp, Handler][] = [
  ['GET', /^\/$/, async (e) => [200, await renderDashboard(e), 'text/html']],
  [
    'POST',
    /^\/events$/,
    async (e, _m, req) => {
      const body = await readJson(req);
      const events = Array.isArray(body) ? body : [body];
      const deps = { doc: e.doc, tables: e.tables, breakerConfig: e.breakerConfig, starter: e, machines: e.playbooks, now: () => new Date() };
      const results = await Promise.all(events.map((ev) => handleAlarmEvent(ev, deps)));
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
    async (e, m) => {
      const report = e.reports.get(m[1]);
      if (!report) throw new HttpError(404, `no report yet for ${m[1]} (written when its playbook ends)`);
      return [200, report, 'text/markdown'];
    },
  ],
  ['GET', /^\/api\/breakers$/, async (e) => [200, await listBreakers(e.doc, e.tables, e.breakerConfig, new Date())]],
  [
    'POST',
    /^\/api\/breakers\/reset$/,
    async (e, _m, req) => {
      const body = (await readJson(req)) as { service?: string; actor?: string };
      return [200, { changes: await resetBreaker(e.doc, e.tables, e.breakerConfig, new Date(), { service: body.service, actor: body.actor ?? 'api' }) }];
    },
  ],
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
];

/**
 * Records a decision, and when it settles the step, releases the waiting execution:
 * SendTaskSuccess on approval, SendTaskFailure(ApprovalRejectedError) on rejection.
 */
export async function decide(engine: LocalEngine, approvalId: string, decision: 'approve' | 'reject', person: string, role: string, reason?: string): Promise<{ status: string; step: string; incidentId: string }> {
  const rec = await decideApproval(engine.doc, engine.tables, approvalId, { role, person, decision, ...(reason ? { reason } : {}) }, new Date());
  await appendEvent(engine.doc, engine.tables, rec.incidentId, { at: new Date(), type: decision === 'approve' ? 'approval_approved' : 'approval_rejected_by', step: rec.step, actor: person, summary: `${person} (${role}) ${decision === 'approve' ? 'approved' : 'rejected'} ${rec.step}${reason ? `: ${reason}` : ''}` });
  const full = await getApproval(engine.doc, engine.tables, approvalId);
  if (full.status === 'APPROVED') engine.sendTaskSuccess(full.taskToken, { approvalId, decisions: full.decisions });
  if (full.status === 'REJECTED') engine.sendTaskFailure(full.taskToken, 'ApprovalRejectedError', `${person} (${role}) rejected ${rec.step}${reason ? `: ${reason}` : ''}`);
  return { status: full.status, step: full.step, incidentId: full.incidentId };
}

export interface LocalServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startServer(engine: LocalEngine, options: { port?: number; host?: string } = {}): Promise<LocalServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = ROUTES.find(([method, re]) => method === req.method && re.test(url.pathname));
    if (!route) {
      send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      return;
    }
    route[2](engine, route[1].exec(url.pathname)!, req, url)
      .then(([status, body, type]) => send(res, status, body, type))
      .catch((err: Error) => {
        const status = err instanceof HttpError ? err.status : err instanceof ApprovalError || err.name.endsWith('NotFoundError') ? 409 : err.name === 'InvalidMetricDataError' || err.name === 'UnknownMetricError' ? 400 : 500;
        send(res, err.name === 'IncidentNotFoundError' ? 404 : status, { error: err.message, name: err.name });
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, server, close: () => new Promise((r) => server.close(() => r())) };
}
