// Voxon dashboard: plain JavaScript over the same /v1 API as every other client. The key lives only in
// sessionStorage (this tab); every value from the API is put on the page as text, never as HTML.
(() => {
  'use strict';
  const KEY = 'voxon.key';
  const $ = (id) => document.getElementById(id);
  const main = $('main');

  // ---- DOM helpers ----
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
      else if (name === 'class') el.className = value;
      else el.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, value);
    if (text !== undefined) el.textContent = text;
    return el;
  }
  const when = (iso) => iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
  const ago = (iso) => {
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return 'just now';
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} d ago`;
  };
  const pct = (x) => `${Math.round(Math.max(0, Math.min(1, x)) * 100)}%`;
  function toast(text) {
    const t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 2600);
  }

  // ---- API ----
  async function api(path, options = {}) {
    const response = await fetch(path, {
      ...options,
      headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}`, 'Content-Type': 'application/json', ...(options.headers || {}) },
    });
    if (response.status === 401) { signOut('Your key was refused; enter it again.'); throw new Error('unauthorized'); }
    if (!response.ok) {
      let detail = response.statusText;
      try { const problem = await response.json(); detail = problem.detail || problem.title || detail; } catch { /* not JSON */ }
      throw new Error(detail);
    }
    return response.status === 204 ? null : response.json();
  }

  // ---- sign in ----
  function signOut(message) {
    sessionStorage.removeItem(KEY);
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
  }
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('key-input').value.trim());
    try { await start(); } catch (err) { if (err.message !== 'unauthorized') signOut(err.message); }
  });
  $('sign-out').addEventListener('click', () => signOut());

  async function start() {
    const me = await api('/v1/keys/me');
    $('tenant').textContent = `Tenant ${me.tenant}`;
    $('login').hidden = true;
    $('app').hidden = false;
    $('key-input').value = '';
    if (!location.hash) location.hash = '#/sessions';
    route();
  }

  // ---- routing: #/sessions, #/s/ID/conversations[/CID], #/s/ID/memory, #/s/ID/analytics, #/s/ID/shares ----
  window.addEventListener('hashchange', () => route());
  async function route() {
    if (!sessionStorage.getItem(KEY)) return;
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    document.querySelectorAll('.sidebar a').forEach((a) => a.classList.remove('active'));
    main.replaceChildren(h('div', { class: 'muted' }, 'Loading…'));
    try {
      if (parts[0] === 's' && parts[1]) {
        const view = parts[2] || 'conversations';
        showSessionNav(parts[1], view);
        if (view === 'memory') await memoryPage(parts[1]);
        else if (view === 'analytics') await analyticsPage(parts[1]);
        else if (view === 'shares') await sharesPage(parts[1]);
        else await conversationsPage(parts[1], parts[3]);
      } else {
        $('session-nav').hidden = true;
        document.querySelector('[data-nav=sessions]').classList.add('active');
        await sessionsPage();
      }
    } catch (err) {
      if (err.message !== 'unauthorized') main.replaceChildren(h('div', { class: 'card error', 'data-testid': 'error' }, err.message));
    }
  }
  function showSessionNav(id, view) {
    $('session-nav').hidden = false;
    $('session-nav-title').textContent = id;
    for (const a of $('session-nav').querySelectorAll('a')) {
      a.href = `#/s/${encodeURIComponent(id)}/${a.dataset.nav}`;
      a.classList.toggle('active', a.dataset.nav === view);
    }
  }
  async function sessionHeader(id) {
    const session = await api(`/v1/sessions/${encodeURIComponent(id)}`);
    return [session, h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { 'data-testid': 'session-title' }, session.user_id),
        h('div', { class: 'muted' }, h('span', { class: 'mono' }, session.session_id), ` · created ${when(session.created_at)} · ${session.memory_count} memories (${session.memory_tokens} / ${session.max_memory_tokens} tokens)`)),
      h('a', { href: '#/sessions' }, '← All sessions'))];
  }

  // ---- sessions by user, with search ----
  async function sessionsPage() {
    const search = h('input', { type: 'search', placeholder: 'Search by user or session id', 'data-testid': 'session-search', value: sessionsPage.q || '' });
    const list = h('div');
    main.replaceChildren(
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Sessions'), h('div', { class: 'muted' }, 'Every session of your tenant, grouped by user.'))),
      h('div', { class: 'toolbar' }, search), list);
    let timer;
    search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { sessionsPage.q = search.value; load(); }, 200); });
    async function load() {
      const q = search.value.trim();
      const sessions = await api(`/v1/sessions${q ? `?q=${encodeURIComponent(q)}` : ''}`);
      if (sessions.length === 0) { list.replaceChildren(h('div', { class: 'card empty' }, q ? `No session matches “${q}”.` : 'No sessions yet. Create one with POST /v1/sessions.')); return; }
      const byUser = new Map();
      for (const session of sessions) (byUser.get(session.user_id) || byUser.set(session.user_id, []).get(session.user_id)).push(session);
      list.replaceChildren(...[...byUser.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([user, items]) =>
        h('section', { class: 'card user-group', 'data-testid': 'user-group' },
          h('h2', {}, h('span', { class: 'avatar' }, user.slice(0, 1).toUpperCase()), user, h('span', { class: 'badge' }, `${items.length} session${items.length === 1 ? '' : 's'}`)),
          h('table', {},
            h('thead', {}, h('tr', {}, h('th', {}, 'Session'), h('th', {}, 'Conversations'), h('th', {}, 'Messages'), h('th', {}, 'Created'), h('th', {}, 'Last active'))),
            h('tbody', {}, items.map((session) => h('tr', {
              class: 'clickable', 'data-testid': 'session-row', 'data-session': session.session_id,
              onclick: () => { location.hash = `#/s/${encodeURIComponent(session.session_id)}/conversations`; },
            },
            h('td', { class: 'mono' }, session.session_id), h('td', {}, session.conversation_count), h('td', {}, session.message_count),
            h('td', {}, when(session.created_at)), h('td', {}, ago(session.updated_at)))))))));
    }
    await load();
  }

  // ---- conversations: tree of branches + transcript with injected memories ----
  async function conversationsPage(id, selected) {
    const [session, head] = await sessionHeader(id);
    const conversations = session.conversations;
    if (conversations.length === 0) { main.replaceChildren(head, h('div', { class: 'card empty' }, 'No conversations yet.')); return; }
    selected = selected || conversations[conversations.length - 1].conversation_id;
    const children = new Map();
    for (const c of conversations) (children.get(c.parent_id || '') || children.set(c.parent_id || '', []).get(c.parent_id || '')).push(c);
    const branch = (parent) => h('ul', { class: 'tree' }, (children.get(parent) || []).map((c) => h('li', {},
      h('a', {
        class: `tree-item${c.conversation_id === selected ? ' active' : ''}`, 'data-testid': 'conversation-item',
        href: `#/s/${encodeURIComponent(id)}/conversations/${encodeURIComponent(c.conversation_id)}`,
      },
      h('div', {}, c.parent_id ? '↳ ' : '', c.conversation_id),
      h('div', { class: 'meta' }, `${c.turn_count} turns · ${c.is_active ? 'open' : 'ended'} · ${ago(c.started_at)}`)),
      children.has(c.conversation_id) ? branch(c.conversation_id) : null)));
    const detail = await api(`/v1/sessions/${encodeURIComponent(id)}/conversations/${encodeURIComponent(selected)}`);
    const transcript = h('div', { class: 'transcript', 'data-testid': 'transcript' });
    if (detail.turns.length === 0) transcript.append(h('div', { class: 'empty' }, 'No messages in this conversation yet.'));
    for (const turn of detail.turns) {
      const bubble = h('div', { class: `turn ${turn.role}`, 'data-testid': `turn-${turn.role}` }, h('div', {}, turn.content),
        h('div', { class: 'when' }, when(turn.timestamp), turn.response_time_ms ? ` · ${Math.round(turn.response_time_ms)} ms` : '', turn.interrupted ? ' · interrupted' : ''));
      transcript.append(bubble);
      if (turn.role === 'user' && turn.injections && turn.injections.length) {
        const panel = injectionsPanel(turn);
        panel.hidden = true;
        bubble.append(h('button', {
          class: 'injected-toggle', 'data-testid': 'show-injections',
          onclick: () => { panel.hidden = !panel.hidden; },
        }, `${turn.injections.length} memor${turn.injections.length === 1 ? 'y' : 'ies'} injected`));
        transcript.append(panel);
      }
    }
    const a = detail.analytics;
    main.replaceChildren(head, h('div', { class: 'convo' },
      h('div', { class: 'card' }, h('h2', {}, 'Conversations'), branch('')),
      h('div', { class: 'card' },
        h('div', { class: 'page-head' }, h('h2', {}, `Transcript · ${selected}`),
          h('span', { class: 'muted' }, `${a.turn_count} turns · ${a.injection_count} injections · ${Math.round(a.avg_response_time_ms || 0)} ms avg reply`)),
        transcript)));
  }
  function injectionsPanel(turn) {
    const usage = turn.context;
    return h('div', { class: 'injections', 'data-testid': 'injections' },
      usage ? h('div', { class: 'budget' }, `Context ${usage.tokens} of ${usage.budget} tokens`, h('div', { class: 'meter' }, h('span', { style: `width:${pct(usage.tokens / usage.budget)}` }))) : null,
      turn.injections.map((i) => h('div', { class: 'injection', 'data-testid': 'injection' },
        h('div', {}, i.memory ? i.memory.content : h('span', { class: 'muted' }, `(forgotten since: ${i.memory_id})`)),
        h('div', { class: 'why' }, h('span', { class: 'scorebar', title: `score ${i.score.toFixed(3)}` }, h('span', { style: `width:${pct(i.score)}` })), i.score.toFixed(2)),
        h('div', { class: 'why' },
          h('span', { class: `badge ${i.reason === 'profile' ? 'good' : 'accent'}` }, i.reason === 'profile' ? 'profile fact' : 'relevant to the message'),
          i.memory ? h('span', { class: 'badge' }, i.memory.category) : null,
          h('span', { class: 'badge' }, i.from_branch ? `from branch ${i.from_branch}` : (i.memory && i.memory.scope ? `scope ${i.memory.scope}` : 'session scope')),
          i.memory ? `importance ${i.memory.importance.toFixed(2)}` : null))));
  }

  // ---- memory: list, search, delete ----
  async function memoryPage(id) {
    const [, head] = await sessionHeader(id);
    const search = h('input', { type: 'search', placeholder: 'Search memory (hybrid lexical + semantic)', 'data-testid': 'memory-search' });
    const list = h('div', { class: 'memory-list', 'data-testid': 'memory-list' });
    main.replaceChildren(head, h('div', { class: 'toolbar' }, search), list);
    let timer;
    search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 250); });
    async function load() {
      const q = search.value.trim();
      const base = `/v1/sessions/${encodeURIComponent(id)}/memory`;
      const items = q ? (await api(`${base}?q=${encodeURIComponent(q)}&top_k=20`)).map((hit) => ({ ...hit.memory, score: hit.score }))
        : (await api(base)).entries.sort((a, b) => b.importance - a.importance);
      if (items.length === 0) { list.replaceChildren(h('div', { class: 'card empty' }, q ? 'Nothing in memory matches.' : 'No memories yet.')); return; }
      list.replaceChildren(...items.map((m) => h('div', { class: 'card memory', 'data-testid': 'memory', 'data-memory': m.id },
        h('div', { class: 'content' }, m.content),
        h('button', {
          class: 'danger', 'data-testid': 'forget',
          onclick: async () => {
            await api(`${base}/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
            toast('Memory forgotten');
            await load();
          },
        }, 'Forget'),
        h('div', { class: 'meta' },
          h('span', { class: 'badge accent' }, m.category),
          h('span', { class: 'badge' }, m.source),
          m.sensitive ? h('span', { class: 'badge bad' }, 'sensitive') : null,
          m.scope ? h('span', { class: 'badge' }, `branch ${m.scope}`) : null,
          `importance ${m.importance.toFixed(2)}`,
          m.score !== undefined ? `· match ${m.score.toFixed(2)}` : null,
          `· ${m.token_count} tokens · ${when(m.timestamp)}`))));
    }
    await load();
  }

  // ---- analytics: stats and charts drawn here (SVG) ----
  async function analyticsPage(id) {
    const [session, head] = await sessionHeader(id);
    const data = await api(`/v1/sessions/${encodeURIComponent(id)}/analytics`);
    const a = data.session;
    const stat = (value, label) => h('div', { class: 'card stat' }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
    // Satisfaction over time: this user's sessions, oldest first (at most 20).
    const siblings = (await api(`/v1/sessions?user_id=${encodeURIComponent(session.user_id)}`)).slice(0, 20).reverse();
    const history = [];
    for (const sibling of siblings) {
      const other = sibling.session_id === id ? data : await api(`/v1/sessions/${encodeURIComponent(sibling.session_id)}/analytics`);
      if (other.session.satisfaction_source !== 'none') history.push({ at: new Date(other.updated_at), score: other.session.satisfaction_score });
    }
    const p = data.preferences;
    main.replaceChildren(head,
      h('div', { class: 'grid stats' },
        stat(a.conversation_count, 'conversations'), stat(a.message_count, 'messages'),
        stat(`${Math.round(a.avg_duration_seconds)} s`, 'average conversation'),
        stat(a.satisfaction_source === 'none' ? '—' : `${a.satisfaction_score.toFixed(1)} / 5`, `satisfaction (${a.satisfaction_source})`)),
      h('div', { class: 'grid two', style: 'margin-top:16px' },
        h('div', { class: 'card', 'data-testid': 'chart-hours' }, h('h2', {}, `Messages by hour (${a.time_zone})`), hourChart(a.hourly_activity)),
        h('div', { class: 'card', 'data-testid': 'chart-topics' }, h('h2', {}, 'Topics'), topicChart(a.topic_mentions)),
        h('div', { class: 'card', 'data-testid': 'chart-satisfaction' }, h('h2', {}, 'Satisfaction over time'), satisfactionChart(history)),
        h('div', { class: 'card', 'data-testid': 'preferences' }, h('h2', {}, `Learned preferences (${p.evidence_count} messages)`),
          gauge('Formality', p.formality_score, p.formality_score.toFixed(2)),
          gauge('Technical level', p.technical_level, p.technical_level.toFixed(2)),
          gauge('Verbosity', p.verbosity, p.verbosity.toFixed(2)),
          gauge('Message length', Math.min(1, p.avg_message_length / 40), `${p.avg_message_length.toFixed(1)} w`),
          gauge('Speaking pace', p.speaking_pace ? Math.min(1, p.speaking_pace / 220) : 0, p.speaking_pace ? `${Math.round(p.speaking_pace)} wpm` : 'unknown'),
          Object.keys(p.overrides).length ? h('div', { class: 'muted', style: 'margin-top:8px' }, 'Overrides: ', Object.entries(p.overrides).map(([k, v]) => `${k} = ${v}`).join(', ')) : null)));
  }
  function gauge(label, value, text) {
    return h('div', { class: 'gauge' }, h('span', {}, label), h('div', { class: 'track' }, h('span', { style: `width:${pct(value)}` })), h('span', { class: 'muted' }, text));
  }
  function hourChart(hours) {
    const width = 520, height = 200, pad = 26, max = Math.max(1, ...hours);
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': 'Messages by hour' });
    const bw = (width - pad * 2) / 24;
    for (let y = 0; y <= 2; y++) {
      const yy = height - pad - ((height - pad * 2) * y) / 2;
      svg.append(s('line', { x1: pad, x2: width - pad, y1: yy, y2: yy, class: 'grid-line' }));
      svg.append(s('text', { x: 2, y: yy + 4 }, String(Math.round((max * y) / 2))));
    }
    hours.forEach((count, hour) => {
      const bh = ((height - pad * 2) * count) / max;
      const rect = s('rect', { x: pad + hour * bw + 2, y: height - pad - bh, width: bw - 4, height: bh, rx: 2, class: 'bar' });
      rect.append(s('title', {}, `${String(hour).padStart(2, '0')}:00 — ${count} messages`));
      svg.append(rect);
      if (hour % 3 === 0) svg.append(s('text', { x: pad + hour * bw + bw / 2, y: height - 8, 'text-anchor': 'middle' }, String(hour).padStart(2, '0')));
    });
    return svg;
  }
  function topicChart(mentions) {
    const topics = Object.entries(mentions || {}).sort((a, b) => b[1] - a[1]).slice(0, 8);
    if (topics.length === 0) return h('div', { class: 'empty' }, 'No topics yet.');
    const width = 520, row = 26, height = topics.length * row + 8, left = 140, max = Math.max(...topics.map((t) => t[1]));
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': 'Topics' });
    topics.forEach(([topic, count], i) => {
      const y = i * row + 4;
      svg.append(s('text', { x: left - 8, y: y + 14, 'text-anchor': 'end' }, topic.length > 20 ? `${topic.slice(0, 19)}…` : topic));
      svg.append(s('rect', { x: left, y, width: Math.max(2, ((width - left - 40) * count) / max), height: row - 8, rx: 3, class: i % 2 ? 'bar alt' : 'bar' }));
      svg.append(s('text', { x: left + ((width - left - 40) * count) / max + 6, y: y + 14 }, String(count)));
    });
    return svg;
  }
  function satisfactionChart(points) {
    if (points.length === 0) return h('div', { class: 'empty' }, 'No satisfaction measured yet.');
    const width = 520, height = 200, pad = 30;
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': 'Satisfaction over time' });
    const t0 = points[0].at.getTime(), t1 = points[points.length - 1].at.getTime();
    const x = (p) => (points.length === 1 || t1 === t0 ? width / 2 : pad + ((width - pad * 2) * (p.at.getTime() - t0)) / (t1 - t0));
    const y = (score) => height - pad - ((height - pad * 2) * (score - 1)) / 4;
    for (let v = 1; v <= 5; v++) {
      svg.append(s('line', { x1: pad, x2: width - pad, y1: y(v), y2: y(v), class: 'grid-line' }));
      svg.append(s('text', { x: 8, y: y(v) + 4 }, String(v)));
    }
    svg.append(s('polyline', { points: points.map((p) => `${x(p)},${y(p.score)}`).join(' '), class: 'line' }));
    for (const p of points) {
      const dot = s('circle', { cx: x(p), cy: y(p.score), r: 4.5, class: 'dot' });
      dot.append(s('title', {}, `${p.at.toLocaleString()} — ${p.score.toFixed(1)}`));
      svg.append(dot);
    }
    svg.append(s('text', { x: pad, y: height - 8 }, points[0].at.toLocaleDateString()));
    svg.append(s('text', { x: width - pad, y: height - 8, 'text-anchor': 'end' }, points[points.length - 1].at.toLocaleDateString()));
    return svg;
  }

  // ---- shares, with revoke ----
  async function sharesPage(id) {
    const [, head] = await sessionHeader(id);
    const shares = await api(`/v1/sessions/${encodeURIComponent(id)}/shares`);
    const now = Date.now();
    const status = (share) => share.revoked_at ? h('span', { class: 'badge bad' }, 'revoked')
      : new Date(share.expires_at).getTime() <= now ? h('span', { class: 'badge warn' }, 'expired') : h('span', { class: 'badge good' }, 'active');
    main.replaceChildren(head, shares.length === 0 ? h('div', { class: 'card empty' }, 'This session is not shared.')
      : h('div', { class: 'card' }, h('table', { 'data-testid': 'shares' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Shared with'), h('th', {}, 'Permissions'), h('th', {}, 'Created'), h('th', {}, 'Expires'), h('th', {}, 'Status'), h('th', {}, ''))),
        h('tbody', {}, shares.map((share) => h('tr', { 'data-testid': 'share-row', 'data-share': share.share_id },
          h('td', {}, share.shared_with_user_id), h('td', {}, share.permissions.map((p) => h('span', { class: 'badge' }, p)), ' '),
          h('td', {}, when(share.created_at)), h('td', {}, when(share.expires_at)), h('td', { 'data-testid': 'share-status' }, status(share)),
          h('td', {}, !share.revoked_at && new Date(share.expires_at).getTime() > now ? h('button', {
            class: 'danger', 'data-testid': 'revoke',
            onclick: async () => {
              await api(`/v1/sessions/${encodeURIComponent(id)}/shares/${encodeURIComponent(share.share_id)}`, { method: 'DELETE' });
              toast('Share revoked');
              await sharesPage(id);
            },
          }, 'Revoke') : null)))))));
  }

  if (sessionStorage.getItem(KEY)) start().catch(() => signOut()); else signOut();
})();
