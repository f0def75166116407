/**
 * The local dashboard (served by `npm start` at `/`): incidents, an incident's live timeline with
 * its investigation, pending approvals with Approve / Reject, breakers with reset, the rendered
 * report, the outbox, and each playbook's compiled state graph with the execution's position, as
 * the Step Functions console shows it.
 *
 * The page itself holds no data and no secret: a script (`/assets/dashboard.js`) reads the JSON
 * API. Deciding, resetting and reading signed links need the engine's API token, which the page
 * takes from the address `npm start` prints (`/#token=...`: a fragment never reaches a server or
 * a Referer) and keeps in the tab's sessionStorage. Without it the page is read-only. Mermaid
 * renders the graphs from node_modules (no CDN: the machine may have no internet).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { listApprovals, type ApprovalRecord } from '../approval/store';
import { listBreakers } from '../breaker';
import { listIncidents, type Incident } from '../incident';
import { mermaidIds, renderMermaid } from '../playbook/graph';
import type { Asl } from '../playbook/compile';
import type { LocalEngine } from './engine';

/** Content-Security-Policy of the dashboard: its own scripts only, no inline script, no framing. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The static files the page loads, by URL path: where each comes from and its type. */
const ASSETS: Readonly<Record<string, { readonly file: () => string; readonly type: string }>> = {
  '/assets/dashboard.js': { file: () => path.join(__dirname, 'dashboard-client.js'), type: 'text/javascript' },
  '/assets/dashboard.css': { file: () => path.join(__dirname, 'dashboard.css'), type: 'text/css' },
  '/assets/mermaid.min.js': { file: () => require.resolve('mermaid/dist/mermaid.min.js'), type: 'text/javascript' },
};

const cache = new Map<string, string>();

/** An asset's content and type, or undefined for a path that is not one. Read once per process. */
export function dashboardAsset(urlPath: string): { readonly body: string; readonly type: string } | undefined {
  const asset = ASSETS[urlPath];
  if (!asset) return undefined;
  let body = cache.get(urlPath);
  if (body === undefined) {
    body = readFileSync(asset.file(), 'utf8');
    cache.set(urlPath, body);
  }
  return { body, type: asset.type };
}

/** The page: layout only; dashboard.js fills it. */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sre-agent — local engine</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/mermaid.min.js" defer></script>
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>sre-agent <small>local engine</small></h1>
  <span id="auth" class="badge">read-only</span>
  <span id="clock"></span>
</header>
<main>
  <section id="left">
    <h2>Incidents</h2>
    <table id="incidents"><thead><tr><th>id</th><th>playbook</th><th>service</th><th>severity</th><th>status</th><th>level</th></tr></thead><tbody></tbody></table>
    <h2>Pending approvals</h2>
    <div id="approvals"><p class="empty">none</p></div>
    <h2>Breakers</h2>
    <table id="breakers"><thead><tr><th>breaker</th><th>state</th><th>detail</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Outbox</h2>
    <div id="outbox"><p class="empty">open the address npm start printed (with its token) to see what the agent would have sent</p></div>
  </section>
  <section id="right">
    <h2 id="incident-title">No incident selected</h2>
    <div id="incident-facts"></div>
    <div id="investigation"></div>
    <h3>State machine <small id="graph-note"></small></h3>
    <div id="graph" class="graph"></div>
    <h3>Timeline</h3>
    <table id="timeline"><thead><tr><th>time (UTC)</th><th>event</th><th>step</th><th>summary</th></tr></thead><tbody></tbody></table>
    <h3>Report <button id="report-button" type="button" disabled>show</button> <small id="report-links"></small></h3>
    <div id="report"></div>
  </section>
</main>
<p id="error" role="alert"></p>
</body>
</html>
`;
}

/** An incident as the dashboard lists it: with its escalation level (seed §4.1). */
export interface DashboardIncident {
  readonly id: string;
  readonly playbook: string;
  readonly service: string;
  readonly severity: string;
  readonly status: string;
  readonly detectedAt: string;
  /** 1 automatic, 2 on-call SRE, 3 team lead / senior SRE, 4 director + CTO. */
  readonly level: number;
  readonly executionArn?: string;
}

/**
 * Levels from stored state: the highest level any of the incident's approvals reached; an
 * incident handed to people is at least level 2; otherwise the agent works alone (level 1).
 */
export function escalationLevels(incidents: readonly Pick<Incident, 'id' | 'status'>[], approvals: readonly Pick<ApprovalRecord, 'incidentId' | 'level'>[]): Map<string, number> {
  const levels = new Map<string, number>();
  for (const a of approvals) levels.set(a.incidentId, Math.max(levels.get(a.incidentId) ?? 1, a.level));
  for (const i of incidents) {
    const fromApprovals = levels.get(i.id) ?? 1;
    levels.set(i.id, i.status === 'ESCALATED' ? Math.max(2, fromApprovals) : fromApprovals);
  }
  return levels;
}

/** What one poll of the dashboard reads: incidents, pending approvals, breakers. */
export async function dashboardState(engine: LocalEngine): Promise<{ incidents: DashboardIncident[]; breakers: unknown[] }> {
  const [incidents, approvals, breakers] = await Promise.all([
    listIncidents(engine.doc, engine.tables, { limit: 50 }),
    listApprovals(engine.doc, engine.tables),
    listBreakers(engine.doc, engine.tables, engine.breakerConfig, new Date()),
  ]);
  const levels = escalationLevels(incidents, approvals);
  return {
    incidents: incidents.map((i) => ({ id: i.id, playbook: i.playbook, service: i.service, severity: i.severity, status: i.status, detectedAt: i.timestamps.detectedAt, level: levels.get(i.id) ?? 1, ...(i.executionArn ? { executionArn: i.executionArn } : {}) })),
    breakers,
  };
}

/** A playbook's state graph for the page: Mermaid text and each state's node id in it. */
export function playbookGraph(asl: Asl): { readonly mermaid: string; readonly nodes: Readonly<Record<string, string>> } {
  return { mermaid: renderMermaid(asl), nodes: mermaidIds(asl) };
}

/**
 * A report's Markdown as HTML for the page. Raw HTML in the Markdown is shown as text, and links
 * that are not http(s) or relative lose their target: report text carries alarm descriptions and
 * reasons people typed.
 */
export async function reportHtml(markdown: string): Promise<string> {
  const { Marked } = (await import('marked')) as typeof import('marked');
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  const marked = new Marked({
    gfm: true,
    renderer: {
      html: ({ text }) => escape(text),
      link({ href, text }) {
        const safe = /^(https?:\/\/|\/|#)/i.test(href) ? href : undefined;
        return safe ? `<a href="${escape(safe)}" rel="noreferrer noopener">${escape(text)}</a>` : escape(text);
      },
      image: ({ text }) => escape(text),
    },
  });
  return marked.parse(markdown, { async: false });
}
