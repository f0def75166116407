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

  // What the user has chosen or typed in each approval's controls. Every poll re-renders the list;
  // without this, a poll between choosing a person and pressing Approve would put the select back on
  // its first option and decide as somebody else, and a reason being typed would be lost.
  const approvalInputs = new Map();

  function renderApprovals(pending) {
    const box = $('approvals');
    for (const id of approvalInputs.keys()) if (!pending.some((a) => a.approvalId === id)) approvalInputs.delete(id);
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.approvalReason : undefined;
    const caret = focused ? [document.activeElement.selectionStart, document.activeElement.selectionEnd] : undefined;
    if (!pending.length) return box.replaceChildren(el('p', { class: 'empty' }, 'none'));
    box.replaceChildren(
      ...pending.map((a) => {
        const kept = approvalInputs.get(a.approvalId) || {};
        const who = el('select', { 'aria-label': 'decide as', 'data-approval-person': a.approvalId }, ...(a.mayDecide || []).map((d, i) => el('option', { value: String(i), selected: kept.person === d.person && kept.role === d.role }, `${d.person} (${d.role})`)));
        const reason = el('input', { type: 'text', placeholder: 'reason (recorded)', 'aria-label': 'reason', 'data-approval-reason': a.approvalId, value: kept.reason || '' });
        const chosen = () => (a.mayDecide || [])[Number(who.value)];
        const keep = () => {
          const d = chosen();
          approvalInputs.set(a.approvalId, { person: d && d.person, role: d && d.role, reason: reason.value });
        };
        who.addEventListener('change', keep);
        reason.addEventListener('input', keep);
        const decide = (decision) => () => {
          const d = chosen();
          if (!d) return;
          approvalInputs.delete(a.approvalId);
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
    const again = focused && box.querySelector(`[data-approval-reason="${CSS.escape(focused)}"]`);
    if (again) {
      again.focus();
      again.setSelectionRange(caret[0], caret[1]);
    }
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

  /** Seconds as people read them: 45 s, 4 min, 1 h 5 min. */
  function duration(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }

  const percent = (x) => Math.round(Math.min(1, Math.max(0, Number(x) || 0)) * 100);

  /** A horizontal bar for a value in [0, 1] (width set through the CSSOM: the CSP allows no inline style). */
  function bar(value, cls) {
    const fill = el('span', { class: 'fill' });
    fill.style.width = `${percent(value)}%`;
    return el('span', { class: `bar ${cls || ''}`, role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(percent(value)) }, fill);
  }

  /** The trend prediction in words: when the metric crosses its threshold, and how sure. */
  function trendText(t) {
    const slope = typeof t.slopePerMinute === 'number' ? `, ${t.slopePerMinute >= 0 ? '+' : ''}${Number(t.slopePerMinute.toPrecision(3))}/min` : '';
    const fit = ` (${t.points} points${slope})`;
    switch (t.status) {
      case 'crossing': {
        const range = t.etaLowSeconds !== undefined && t.etaHighSeconds !== undefined ? `, between ${duration(t.etaLowSeconds)} and ${duration(t.etaHighSeconds)}` : '';
        return `${t.metric} reaches ${t.threshold} in about ${duration(t.etaSeconds)}${range}${fit}`;
      }
      case 'already_crossed':
        return `${t.metric} is already past ${t.threshold}${fit}`;
      case 'not_crossing':
        return `${t.metric} is not heading for ${t.threshold}${fit}`;
      default:
        return `not enough data to predict ${t.metric} (${t.points} points)`;
    }
  }

  /** The label every LLM summary carries (lib/analysis/summary.ts llmSummaryLabel), also for one stored without it. */
  function llmLabel(llm) {
    return llm.label || `LLM summary (Bedrock ${llm.model}), advisory; decides nothing`;
  }

  /** A timeline row's LLM summary or its note, labelled, under the event's own summary. */
  function llmLines(e) {
    const llm = e.data && e.data.llmSummary;
    if (llm && typeof llm.text === 'string') return [el('div', { class: 'llm-summary' }, `${llmLabel(llm)}: ${llm.text}`)];
    if (e.data && typeof e.data.llmSummaryNote === 'string') return [el('div', { class: 'llm-summary-note' }, e.data.llmSummaryNote)];
    return [];
  }

  /**
   * The investigation (issue 13's InvestigationResult): the latest `investigation_completed`
   * event's data, else what the incident holds. Ranked hypotheses with confidence bars (never
   * shown as certain), the trend's ETA, the risk score with its factors, similar incidents and
   * the checks that did not answer.
   */
  function renderInvestigation(incident, timeline) {
    const event = [...timeline].reverse().find((e) => e.type === 'investigation_completed' && e.data && e.data.investigation);
    const inv = event ? event.data.investigation : incident.investigation;
    const box = $('investigation');
    if (!inv) return box.replaceChildren(el('p', { class: 'empty' }, 'investigation: not concluded yet'));
    const parts = [el('h3', {}, 'Investigation ', el('small', {}, inv.completedAt ? `concluded ${String(inv.completedAt).slice(11, 19)} UTC` : ''))];
    const hypotheses = Array.isArray(inv.hypotheses) ? inv.hypotheses : [];
    if (hypotheses.length) {
      parts.push(
        el(
          'ol',
          { class: 'hypotheses' },
          ...hypotheses.map((h) =>
            el(
              'li',
              { 'data-hypothesis': h.id, 'data-confidence': String(percent(h.confidence)) },
              el('div', { class: 'hyp' }, bar(h.confidence, 'confidence'), el('span', { class: 'pct' }, `${percent(h.confidence)}%`), el('span', {}, h.statement || h.statementEn || h.id), h.statementEn && h.statement ? el('small', {}, ` ${h.statementEn}`) : ''),
              h.suggestion ? el('div', { class: 'suggestion' }, `→ ${h.suggestion}`) : '',
              Array.isArray(h.evidence) && h.evidence.length ? el('ul', { class: 'evidence' }, ...h.evidence.map((ev) => el('li', {}, `${ev.label}: ${ev.value}${ev.at ? ` (${String(ev.at).slice(11, 19)} UTC)` : ''}${ev.source ? ` — ${ev.source}` : ''}`))) : '',
            ),
          ),
        ),
      );
    } else parts.push(el('p', { class: 'empty' }, 'no hypothesis: nothing the checks read points to a cause'));
    if (inv.trend) parts.push(el('p', { class: 'trend', 'data-trend': inv.trend.status }, el('strong', {}, 'Trend: '), trendText(inv.trend)));
    if (inv.risk) {
      const factors = Object.entries(inv.risk.factors || {}).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(', ');
      parts.push(
        el(
          'div',
          { class: `risk ${inv.risk.level}`, 'data-risk': String(inv.risk.score) },
          el('strong', {}, 'Risk: '),
          bar(inv.risk.score, `risk-bar ${inv.risk.level}`),
          ` ${inv.risk.level} (${Number(inv.risk.score).toFixed(2)})`,
          inv.risk.suggestion ? ` — ${inv.risk.suggestion}` : '',
          factors ? el('div', { class: 'factors' }, factors) : '',
        ),
      );
    }
    if (Array.isArray(inv.similar) && inv.similar.length) {
      parts.push(el('p', { class: 'similar' }, el('strong', {}, 'Similar past incidents: '), inv.similar.map((x) => `${x.incidentId} (${Math.round((x.score || 0) * 100)}%: ${x.rootCause}${x.resolutionSteps && x.resolutionSteps.length ? `; fixed by ${x.resolutionSteps.join(' → ')}` : ''})`).join('; ')));
    }
    const llm = event && event.data.llmSummary;
    if (llm && typeof llm.text === 'string') parts.push(el('div', { class: 'llm-summary', 'data-llm-model': String(llm.model) }, el('strong', {}, `${llmLabel(llm)}: `), el('span', { class: 'llm-text' }, llm.text)));
    else if (event && typeof event.data.llmSummaryNote === 'string') parts.push(el('p', { class: 'llm-summary-note' }, event.data.llmSummaryNote));
    const unanswered = (inv.checks || []).filter((c) => c.status === 'failed' || c.status === 'timed_out');
    if (unanswered.length) parts.push(el('p', { class: 'checks' }, `Checks without an answer: ${unanswered.map((c) => `${c.name} ${c.status.replace('_', ' ')}${c.error ? ` (${c.error})` : ''}`).join('; ')}`));
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
    renderInvestigation(incident, timeline);
    rows(
      $('timeline').tBodies[0],
      timeline,
      (e) => el('tr', { 'data-type': e.type }, el('td', {}, e.at.slice(11, 19)), el('td', {}, e.type), el('td', {}, e.step || ''), el('td', {}, e.summary, ...llmLines(e))),
      'no events',
      4,
    );
    $('report-button').disabled = false;
    // The report of a running incident is built on demand (labelled in progress); a closed one's is the stored report.
    const running = incident.status !== 'RESOLVED' && incident.status !== 'FAILED';
    const base = `/api/incidents/${encodeURIComponent(id)}/report`;
    $('report-links').replaceChildren(
      running ? 'in progress: ' : '',
      el('a', { href: `${base}?format=md`, target: '_blank', rel: 'noopener', 'data-report-link': 'zh-CN' }, 'Markdown 中文'),
      ' · ',
      el('a', { href: `${base}?format=md&lang=en`, target: '_blank', rel: 'noopener', 'data-report-link': 'en' }, 'Markdown English'),
      ' · ',
      el('a', { href: `${base}?format=json`, target: '_blank', rel: 'noopener', 'data-report-link': 'json' }, 'JSON'),
    );
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
      box.replaceChildren(el('p', { class: 'empty' }, err.message.includes('404') ? 'no report stored for this closed incident (POST its report address, or sre-agent report, writes one)' : err.message));
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
