/** The local dashboard: incidents with live timelines, pending approvals, breakers, executions. Server-rendered, refreshes itself. */
import { listApprovals } from '../approval/store';
import { listBreakers } from '../breaker';
import { getTimeline, listIncidents } from '../incident';
import type { LocalEngine } from './engine';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The dashboard page. It carries the API token in a meta tag for its own requests: the page is
 * served only to requests for the engine's own Host, and another origin cannot read it.
 */
export async function renderDashboard(engine: LocalEngine, token = ''): Promise<string> {
  const incidents = await listIncidents(engine.doc, engine.tables, { limit: 20 });
  const approvals = await listApprovals(engine.doc, engine.tables, 'PENDING');
  const breakers = await listBreakers(engine.doc, engine.tables, engine.breakerConfig, new Date());
  const latest = incidents[0];
  const timeline = latest ? await getTimeline(engine.doc, engine.tables, latest.id) : [];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><meta name="sre-agent-token" content="${esc(token)}"><meta name="referrer" content="no-referrer"><title>sre-agent (local)</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}.OPEN,.MITIGATING{color:#b45309}.AWAITING_APPROVAL{color:#7c3aed}.RESOLVED{color:#15803d}.ESCALATED,.FAILED{color:#b91c1c}code{background:#f3f3f3;padding:0 3px}</style></head><body>
<h1>sre-agent — local engine</h1>
<h2>Breakers</h2><table><tr><th>scope</th><th>state</th><th>reason</th></tr>${breakers.map((b) => `<tr><td>${esc(b.service ?? b.scope)}</td><td class="${b.state === 'OPEN' ? 'FAILED' : 'RESOLVED'}">${esc(b.state)}</td><td>${esc(b.reason)}</td></tr>`).join('') || '<tr><td colspan="3">all closed</td></tr>'}</table>
<h2>Pending approvals</h2><table><tr><th>approval id</th><th>incident</th><th>step</th><th>approvers</th><th>level</th><th>expires</th><th>message</th></tr>${approvals.map((a) => `<tr><td><code>${esc(a.approvalId)}</code></td><td>${esc(a.incidentId)}</td><td>${esc(a.step)}</td><td>${esc(a.approvers.join(' + '))}</td><td>L${a.level}</td><td>${esc(a.expiresAt)}</td><td>${esc(a.message)}</td></tr>`).join('') || '<tr><td colspan="7">none</td></tr>'}</table>
<h2>Incidents</h2><table><tr><th>id</th><th>playbook</th><th>service</th><th>severity</th><th>status</th><th>detected</th></tr>${incidents.map((i) => `<tr><td><a href="/api/incidents/${esc(i.id)}">${esc(i.id)}</a></td><td>${esc(i.playbook)}</td><td>${esc(i.service)}</td><td>${esc(i.severity)}</td><td class="${esc(i.status)}">${esc(i.status)}</td><td>${esc(i.timestamps.detectedAt)}</td></tr>`).join('') || '<tr><td colspan="6">none yet: <code>npx sre-agent alarm traffic-surge</code></td></tr>'}</table>
${latest ? `<h2>Timeline of ${esc(latest.id)}</h2><table><tr><th>time (UTC)</th><th>event</th><th>step</th><th>summary</th></tr>${timeline.map((e) => `<tr><td>${esc(e.at.slice(11, 19))}</td><td>${esc(e.type)}</td><td>${esc(e.step)}</td><td>${esc(e.summary)}</td></tr>`).join('')}</table>` : ''}
</body></html>`;
}
