/*
 * The dashboard's script (served as /assets/dashboard.js; see lib/local/dashboard.ts). Plain
 * browser JavaScript, no build step. It polls the JSON API and fills the page; every value goes
 * in as text (textContent), never as HTML, except the report, which the server renders with raw
 * HTML escaped, and the Mermaid SVG. The API token comes from the address npm start prints
 * (#token=...), is kept in this tab's sessionStorage and removed from the address bar.
 */
'use strict';

(() => {
  const POLL_MS = 1500;
  const TOKEN_KEY = 'sre-agent-token';
  const LEVELS = { 1: 'L1 auto', 2: 'L2 on-call', 3: 'L3 lead', 4: 'L4 director' };
  const $ = (id) => document.getElementById(id);

  const fromHash = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromHash[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY);

  /** One API call; throws with the server's error text. */
  async function api(method, path, body) {
    const headers = {};
    if (token()) headers.authorization = `Bearer ${token()}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = res.headers.get('content-type') || '';
    const data = type.includes('json') ? await res.json() : await res.text();
    if (!res.ok && res.status !== 202) throw new Error(`${method} ${path} → ${res.status}: ${data && data.error ? data.error : data}`);
    return data;
  }

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  function rows(tbody, items, render, empty, columns) {
    tbody.replaceChildren(...(items.length ? items.map(render) : [el('tr', {}, el('td', { colspan: columns, class: 'empty' }, empty))]));
  }

  const params = new URLSearchParams(location.search);
  let selected = params.get('incident');
  let graphKey = '';
  let reportShown = false;
  let busy = false;

  function select(id) {
    selected = id;
    reportShown = false;
    $('report').replaceChildren();
    const url = new URL(location.href);
    url.searchParams.set('incident', id);
    history.replaceState(null, '', url.pathname + url.search);
    void refresh();
  }

  function renderIncidents(incidents) {
    rows(
      $('incidents').tBodies[0],
      incidents,
      (i) =>
        el(
          'tr',
          { class: i.id === selected ? 'selected' : '', 'data-incident': i.id, onclick: () => select(i.id) },
          el('td', {}, el('a', { href: `?incident=${encodeURIComponent(i.id)}`, onclick: (e) => (e.preventDefault(), select(i.id)) }, i.id)),
          el('td', {}, i.playbook),
          el('td', {}, i.service),
          el('td', { class: `sev ${i.severity}` }, i.severity),
          el('td', { class: `status ${i.status}` }, i.status),
          el('td', {}, LEVELS[i.level] || `L${i.level}`),
        ),
      'none yet: npx sre-agent drill traffic-surge',
      6,
    );
  }

  function renderBreakers(breakers) {
    rows(
      $('breakers').tBodies[0],
      breakers,
      (b) => {
        const name = b.scope === 'global' ? 'global' : b.service;
        const detail = b.scope === 'global' ? `${(b.activeHighSeverity || []).length} HIGH active, data collection ${b.dataCollection ? `${b.dataCollection.failures}/${b.dataCollection.samples} failed` : 'n/a'}` : `${(b.attempts || []).length} attempt(s) in the window`;
        const reset = b.state === 'OPEN' && token() ? el('button', { type: 'button', 'data-reset': name, onclick: () => act(() => api('POST', '/api/breakers/reset', b.scope === 'global' ? { actor: 'dashboard' } : { service: b.service, actor: 'dashboard' })) }, 'reset') : '';
        return el('tr', {}, el('td', {}, name), el('td', { class: `breaker ${b.state}` }, b.state), el('td', {}, b.reason ? `${b.reason} — ${detail}` : detail), el('td', {}, reset));
      },
      'no breaker yet',
      4,
    );
  }

  function renderApprovals(pending) {
    const box = $('approvals');
    if (!pending.length) return box.replaceChildren(el('p', { class: 'empty' }, 'none'));
    box.replaceChildren(
      ...pending.map((a) => {
        const who = el('select', { 'aria-label': 'decide as', 'data-approval-person': a.approvalId }, ...(a.mayDecide || []).map((d, i) => el('option', { value: String(i) }, `${d.person} (${d.role})`)));
        const reason = el('input', { type: 'text', placeholder: 'reason (recorded)', 'aria-label': 'reason' });
        const decide = (decision) => () => {
          const d = (a.mayDecide || [])[Number(who.value)];
          if (!d) return;
          act(() => api('POST', `/api/approvals/${a.approvalId}/${decision}`, { as: d.person, role: d.role, ...(reason.value ? { reason: reason.value } : {}) }));
        };
        const controls = token() && a.mayDecide && a.mayDecide.length
          ? [who, reason, el('button', { type: 'button', class: 'approve', 'data-approve': a.approvalId, onclick: decide('approve') }, 'Approve'), el('button', { type: 'button', class: 'reject', 'data-reject': a.approvalId, onclick: decide('reject') }, 'Reject')]
          : [el('span', { class: 'empty' }, token() ? `nobody holds ${a.approvers.join(', ')} now` : 'read-only: open the address npm start printed to decide')];
        const decided = (a.decisions || []).map((d) => `${d.decision} by ${d.person} (${d.role})`).join('; ');
        return el(
          'div',
          { class: 'approval', 'data-approval': a.approvalId },
          el('div', {}, el('strong', {}, a.step), ` — ${a.incidentId}, ${a.minApprovals} of ${a.approvers.join(' + ')}, L${a.level || '?'}, until ${String(a.expiresAt).slice(11, 19)} UTC`),
          a.message ? el('pre', { class: 'message' }, a.message) : '',
          decided ? el('div', { class: 'decided' }, decided) : '',
          el('div', { class: 'controls' }, ...controls),
        );
      }),
    );
  }

  function renderOutbox(entries) {
    const box = $('outbox');
    if (!entries.length) return box.replaceChildren(el('p', { class: 'empty' }, 'empty'));
    box.replaceChildren(
      ...entries.map((e) =>
        el('details', { class: 'outbox' }, el('summary', {}, `${e.id} ${e.at.slice(11, 19)} ${e.channel}${e.to.length ? ` → ${e.to.join(', ')}` : ''}: ${e.title}`), el('pre', {}, e.text)),
      ),
    );
  }

  /** Hypotheses, trend, risk and similar incidents, from whatever the investigation stored on the incident. */
  function renderInvestigation(incident) {
    const inv = incident.investigation;
    const box = $('investigation');
    if (!inv) return box.replaceChildren(el('p', { class: 'empty' }, incident.timestamps && incident.timestamps.investigatedAt ? '' : 'investigation: not concluded yet'));
    const parts = [el('h3', {}, 'Investigation')];
    if (Array.isArray(inv.hypotheses) && inv.hypotheses.length) {
      parts.push(el('ol', { class: 'hypotheses' }, ...inv.hypotheses.map((h) => el('li', {}, `${h.statement} `, el('span', { class: 'confidence' }, `(confidence ${Math.round((h.confidence || 0) * 100)}%)`)))));
    }
    if (inv.trend) parts.push(el('p', {}, `Trend: ${inv.trend.summary || JSON.stringify(inv.trend)}`));
    if (inv.risk) parts.push(el('p', {}, `Risk: ${inv.risk.summary || `${inv.risk.level || ''} ${inv.risk.score !== undefined ? `(${inv.risk.score})` : ''} ${inv.risk.suggestion || ''}`}`));
    if (Array.isArray(inv.similar) && inv.similar.length) parts.push(el('p', {}, `Similar past incidents: ${inv.similar.map((s) => `${s.incident_id || s.incidentId} (${s.root_cause || s.rootCause || ''})`).join('; ')}`));
    box.replaceChildren(...parts);
  }

  async function renderGraph(incident, executions) {
    const exec = executions.find((x) => x.executionArn === incident.executionArn);
    const visited = exec ? [...new Set(exec.states)] : [];
    const current = exec && exec.status === 'RUNNING' ? exec.states[exec.states.length - 1] : undefined;
    $('graph-note').textContent = exec ? `${exec.status}${current ? `, at ${current}` : ''}` : 'no execution in this process';
    const key = `${incident.playbook}|${visited.join(',')}|${current || ''}`;
    if (key === graphKey || !window.mermaid) return;
    const graph = await api('GET', `/api/playbooks/${encodeURIComponent(incident.playbook)}/graph`);
    const ids = (names) => names.map((n) => graph.nodes[n]).filter(Boolean);
    const lines = [graph.mermaid, '  classDef visited fill:#dcfce7,stroke:#15803d', '  classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px'];
    const done = ids(visited.filter((n) => n !== current));
    if (done.length) lines.push(`  class ${done.join(',')} visited`);
    if (current && graph.nodes[current]) lines.push(`  class ${graph.nodes[current]} current`);
    const { svg } = await window.mermaid.render(`g${Date.now()}`, lines.join('\n'));
    const box = $('graph');
    box.innerHTML = svg;
    // Keep the position in view, as the console does, without scrolling the page.
    const node = box.querySelector('.node.current');
    if (node) {
      const a = node.getBoundingClientRect();
      const b = box.getBoundingClientRect();
      box.scrollTop += a.top - b.top - box.clientHeight / 2 + a.height / 2;
      box.scrollLeft += a.left - b.left - box.clientWidth / 2 + a.width / 2;
    }
    box.dataset.current = current || '';
    box.dataset.visited = visited.join(',');
    graphKey = key;
  }

  async function renderIncident(id, executions) {
    const { incident, metrics, timeline } = await api('GET', `/api/incidents/${encodeURIComponent(id)}`);
    $('incident-title').textContent = `${incident.id} — ${incident.playbook} on ${incident.service}`;
    const m = (s) => (s === undefined || s === null ? '—' : `${Math.round(s)} s`);
    $('incident-facts').replaceChildren(
      el('p', {}, el('span', { class: `status ${incident.status}` }, incident.status), ` severity ${incident.severity}; detected ${incident.timestamps.detectedAt.slice(11, 19)} UTC; MTTD ${m(metrics.mttdSeconds)}, MTTI ${m(metrics.mttiSeconds)}, MTTR ${m(metrics.mttrSeconds)}`),
    );
    renderInvestigation(incident);
    rows(
      $('timeline').tBodies[0],
      timeline,
      (e) => el('tr', { 'data-type': e.type }, el('td', {}, e.at.slice(11, 19)), el('td', {}, e.type), el('td', {}, e.step || ''), el('td', {}, e.summary)),
      'no events',
      4,
    );
    $('report-button').disabled = false;
    if (reportShown) await showReport(id);
    await renderGraph(incident, executions);
  }

  async function showReport(id) {
    reportShown = true;
    const box = $('report');
    try {
      const html = await api('GET', `/api/incidents/${encodeURIComponent(id)}/report?format=html`);
      const doc = new DOMParser().parseFromString(String(html), 'text/html');
      box.replaceChildren(...doc.body.childNodes);
    } catch (err) {
      box.replaceChildren(el('p', { class: 'empty' }, err.message.includes('404') ? 'no report yet (written when the playbook ends)' : err.message));
    }
  }

  /** Runs a decision or a reset, shows its error, and refreshes. */
  async function act(fn) {
    try {
      await fn();
      $('error').textContent = '';
    } catch (err) {
      $('error').textContent = err.message;
    }
    await refresh();
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      $('auth').textContent = token() ? 'signed in (token)' : 'read-only';
      $('auth').className = `badge ${token() ? 'ok' : ''}`;
      $('clock').textContent = new Date().toISOString().slice(11, 19) + ' UTC';
      const [state, executions, pending, outbox] = await Promise.all([
        api('GET', '/api/dashboard'),
        api('GET', '/api/executions'),
        token() ? api('GET', '/api/approvals/pending') : api('GET', '/api/approvals?status=PENDING'),
        token() ? api('GET', '/api/outbox?limit=30').catch(() => []) : Promise.resolve(null),
      ]);
      if (!selected && state.incidents.length) selected = state.incidents[0].id;
      renderIncidents(state.incidents);
      renderBreakers(state.breakers);
      renderApprovals(pending);
      if (outbox) renderOutbox(outbox);
      if (selected) await renderIncident(selected, executions);
      document.body.dataset.ready = 'true';
    } catch (err) {
      $('error').textContent = err.message;
    } finally {
      busy = false;
    }
  }

  window.addEventListener('DOMContentLoaded', () => {
    if (window.mermaid) window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', flowchart: { htmlLabels: false } });
    $('report-button').addEventListener('click', () => selected && void showReport(selected));
    void refresh();
    setInterval(() => void refresh(), POLL_MS);
  });
})();
