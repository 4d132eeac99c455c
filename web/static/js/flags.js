// The flags overview: counts, filters, the application × environment table, quick toggles, live updates.
import {
  h, fill, api, p, announce, confirmChange, errorText, fmtNum, relTime, flagHref, title,
  setEnvironments,
} from './lib.js';

const STATES = ['on', 'off', 'rollout', 'targeted', 'invalid', 'stale'];
const filters = { text: '', app: '', owner: '', state: '' }; // kept while the page is open
let markedFirstRender = false;
let markedComplete = false;
let renderSeq = 0;

/** What a cell says at a glance: 'on', 'off', '25%', '2 rules', 'targeted', 'invalid'. */
export function stateText(f) {
  switch (f.state) {
    case 'rollout': return `${f.rollout || 0}%`; // zero is left out of the answer
    case 'targeted': return f.rules ? `${f.rules} rule${f.rules === 1 ? '' : 's'}` : 'targeted';
    default: return f.state || 'unknown';
  }
}

export const STALE_TEXT = {
  never_evaluated: 'never evaluated',
  not_evaluated: 'not evaluated recently',
  uniform: 'serves one variant to everyone',
  expired: 'past its expiry date',
};

function matches(f, text) {
  if (filters.app && f.app !== filters.app) return false;
  if (filters.owner && (f.owner || '') !== filters.owner) return false;
  if (filters.state === 'stale' ? !(f.stale && f.stale.length) : filters.state && f.state !== filters.state) return false;
  if (text) {
    const hay = `${f.name} ${f.description || ''} ${f.owner || ''}`.toLowerCase();
    if (!hay.includes(text)) return false;
  }
  return true;
}

export async function flagsView(root, ctx) {
  root.append(title('Flags'), h('p', { class: 'muted loading' }, 'Loading flags…'));
  let data = (ctx.early && (await ctx.early)) || (await api('GET', '/v1/flags?path=/'));
  if (!ctx.alive) return;
  setEnvironments(data.environments, true);

  // ---- model ----
  let envs = [];          // [{name, protected}]
  let byName = new Map(); // name → flag
  const cells = new Map(); // name → rendered element (td or tr), for live replacement

  function load(d) {
    envs = (d.environments || []).slice();
    const known = new Set(envs.map((e) => e.name));
    for (const f of d.flags) {
      if (f.env && f.app && !known.has(f.env)) { known.add(f.env); envs.push({ name: f.env }); }
    }
    byName = new Map(d.flags.map((f) => [f.name, f]));
  }
  load(data);
  const isProtected = (env) => envs.some((e) => e.name === env && e.protected);

  // ---- layout ----
  const counts = h('dl', { id: 'flag-counts', class: 'counts' });
  const text = h('input', { id: 'filter-text', type: 'search', value: filters.text, placeholder: 'name, description or owner' });
  const appSel = h('select', { id: 'filter-app' });
  const ownerSel = h('select', { id: 'filter-owner' });
  const stateSel = h('select', { id: 'filter-state' },
    h('option', { value: '' }, 'All states'), STATES.map((s) => h('option', { value: s }, s)));
  stateSel.value = filters.state;
  const summary = h('p', { id: 'filter-summary', class: 'muted', 'aria-live': 'polite' });
  const tableWrap = h('div', { class: 'table-wrap' });
  const otherWrap = h('section', { 'aria-labelledby': 'other-flags-h', id: 'other-section' });
  const live = h('p', { id: 'live-state', class: 'muted small' }, 'Live updates: connecting…');

  fill(root,
    title('Flags'),
    counts,
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter flags', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'row' }, h('label', { for: 'filter-text' }, 'Search'), text),
      h('div', { class: 'row' }, h('label', { for: 'filter-app' }, 'Application'), appSel),
      h('div', { class: 'row' }, h('label', { for: 'filter-owner' }, 'Owner'), ownerSel),
      h('div', { class: 'row' }, h('label', { for: 'filter-state' }, 'State'), stateSel)),
    summary,
    tableWrap,
    otherWrap,
    live);

  function fillSelect(sel, all, values, current) {
    fill(sel, h('option', { value: '' }, all), values.map((v) => h('option', { value: v }, v)));
    sel.value = values.includes(current) ? current : '';
  }
  function renderFilters() {
    const apps = [...new Set([...(data.applications || []), ...[...byName.values()].map((f) => f.app).filter(Boolean)])].sort();
    const owners = [...new Set([...byName.values()].map((f) => f.owner).filter(Boolean))].sort();
    fillSelect(appSel, 'All applications', apps, filters.app);
    fillSelect(ownerSel, 'All owners', owners, filters.owner);
  }

  function renderCounts() {
    const all = [...byName.values()];
    const n = (s) => all.filter((f) => f.state === s).length;
    const apps = new Set(all.map((f) => f.app).filter(Boolean));
    for (const a of data.applications || []) apps.add(a);
    const items = [
      ['flags', 'Flags', all.length],
      ['applications', 'Applications', apps.size],
      ['environments', 'Environments', envs.length],
      ['on', 'On', n('on')],
      ['off', 'Off', n('off')],
      ['rollout', 'Rolling out', n('rollout')],
      ['stale', 'Stale', all.filter((f) => f.stale && f.stale.length).length],
    ];
    fill(counts, ...items.map(([id, label, v]) =>
      h('div', { class: 'count count-' + id }, h('dt', null, label), h('dd', { id: 'count-' + id }, fmtNum(v)))));
  }

  // ---- cells ----
  let now = Date.now();

  /** The contents shared by a table cell and an "other flags" row: state, last evaluation, stale badge, toggle. */
  function cellParts(f, where) {
    const label = `${f.flag || f.name}${where ? ' in ' + where : ''}`;
    const parts = [
      h('a', { href: flagHref(f.name), class: 'state st-' + f.state, title: f.error || null,
        'aria-label': `${label}: ${stateText(f)}` }, stateText(f)),
    ];
    if (f.default_variant && f.default_variant !== 'on' && f.default_variant !== 'off') {
      parts.push(h('span', { class: 'variant' }, 'default ', h('b', null, f.default_variant)));
    }
    parts.push(h('span', { class: 'seen' }, f.last_evaluated ? relTime(f.last_evaluated, now) : 'never'));
    if (f.stale && f.stale.length) {
      parts.push(h('span', { class: 'badge stale', title: f.stale.map((c) => STALE_TEXT[c] || c).join(', ') }, 'stale'));
    }
    if (f.writable && f.state !== 'invalid') {
      const on = f.state !== 'off';
      parts.push(h('button', {
        type: 'button', class: 'toggle', 'data-name': f.name,
        'aria-label': `${on ? 'Turn off' : 'Turn on'} ${label}`,
      }, on ? 'Turn off' : 'Turn on'));
    }
    return parts;
  }

  function cell(f, env) {
    if (!f) return h('td', { class: 'none' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'sr-only' }, 'none'));
    const td = h('td', { class: 'cell', 'data-flag': f.name, 'data-state': f.state }, cellParts(f, env));
    cells.set(f.name, td);
    return td;
  }

  function otherRow(f) {
    const tr = h('tr', { 'data-flag': f.name },
      h('th', { scope: 'row' }, h('a', { href: flagHref(f.name) }, f.name)),
      h('td', { class: 'cell', 'data-state': f.state }, cellParts(f, '')));
    cells.set(f.name, tr);
    return tr;
  }

  // ---- tables ----
  function renderTables() {
    delete document.body.dataset.ready;
    now = Date.now();
    cells.clear();
    const needle = filters.text.trim().toLowerCase();
    const groups = new Map(); // app → Map(flag → {env → f})
    const others = [];
    let shown = 0;
    const matchedRows = new Set();
    for (const f of byName.values()) {
      if (!f.app || !f.flag || !f.env) { if (matches(f, needle)) others.push(f); continue; }
      let g = groups.get(f.app);
      if (!g) groups.set(f.app, (g = new Map()));
      let row = g.get(f.flag);
      if (!row) g.set(f.flag, (row = {}));
      row[f.env] = f;
      if (matches(f, needle)) matchedRows.add(f.app + '\0' + f.flag);
    }

    // One table per application, all with the same fixed columns, so
    // that the browser lays out and paints only the groups on screen
    // (content-visibility: auto in app.css). The first groups are built
    // at once; the rest follow in slices of a few milliseconds, so the
    // first screen shows without waiting for thousands of cells.
    const apps = [...groups.keys()].sort().map((app) => {
      const g = groups.get(app);
      return [app, g, [...g.keys()].filter((k) => matchedRows.has(app + '\0' + k)).sort()];
    }).filter(([, , keys]) => keys.length);
    for (const [, , keys] of apps) shown += keys.length;
    const head = () => h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Flag'),
      envs.map((e) => h('th', { scope: 'col', 'data-env': e.name }, e.name,
        e.protected && h('span', { class: 'badge protected', title: 'protected environment: changes ask for confirmation' },
          'protected')))));
    const group = ([app, g, keys]) => {
      const tbody = h('tbody', { 'data-app': app });
      for (const k of keys) {
        const row = g.get(k);
        const tr = h('tr', { 'data-key': k }, h('th', { scope: 'row', class: 'flag-key' }, k));
        for (const e of envs) tr.append(cell(row[e.name], e.name));
        tbody.append(tr);
      }
      const sec = h('section', { class: 'app-group', 'data-app': app, 'aria-labelledby': 'app-' + app },
        h('table', { class: 'overview' },
          h('caption', { id: 'app-' + app }, app, h('span', { class: 'muted small' }, ` ${keys.length} flag${keys.length === 1 ? '' : 's'}`)),
          h('colgroup', null, h('col', { class: 'col-flag' }), envs.map(() => h('col', { class: 'col-env' }))),
          head(), tbody));
      // Until a group has been on screen, the browser reserves this much
      // room for it (then it remembers the real size).
      sec.style.containIntrinsicSize = `auto ${4.5 + keys.length * 2.75}rem`;
      return sec;
    };
    const list = h('div', { id: 'flags-table', class: 'overview-groups' });
    fill(tableWrap, shown ? list : h('p', { class: 'empty' },
      byName.size ? 'No flag matches the filters.' : 'No flags yet. Flags are parameters under a “features” path segment.'));
    const seq = ++renderSeq;
    let next = 0;
    const build = (budget) => {
      const start = performance.now();
      while (next < apps.length && (next === 0 || performance.now() - start < budget)) list.append(group(apps[next++]));
    };
    build(12);
    if (!markedFirstRender) {
      markedFirstRender = true;
      performance.mark('vane:overview-rendered');
    }
    const rest = () => {
      if (seq !== renderSeq || !ctx.alive) return; // a newer render took over
      build(10);
      if (next < apps.length) setTimeout(rest, 0);
      else finish();
    };
    if (next < apps.length) setTimeout(rest, 0);
    else finish();

    function finish() {
      fill(otherWrap);
      if (others.length) {
        others.sort((a, b) => (a.name < b.name ? -1 : 1));
        otherWrap.append(h('h2', { id: 'other-flags-h' }, 'Other flags'),
          h('p', { class: 'muted' }, 'Flags whose names do not follow /application/environment/features/flag.'),
          h('div', { class: 'table-wrap' }, h('table', { id: 'other-flags' },
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Flag'), h('th', { scope: 'col' }, 'State'))),
            h('tbody', null, others.map(otherRow)))));
      }
      summary.textContent = `Showing ${fmtNum(shown)} flag row${shown === 1 ? '' : 's'}` +
        (others.length ? ` and ${fmtNum(others.length)} other flag${others.length === 1 ? '' : 's'}.` : '.');
      document.body.dataset.ready = 'flags';
      if (!markedComplete) {
        markedComplete = true;
        performance.mark('vane:overview-complete');
      }
    }
  }

  function renderAll() {
    renderCounts();
    renderFilters();
    renderTables();
  }
  renderAll();

  // ---- filters ----
  let filterTimer;
  text.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { filters.text = text.value; renderTables(); }, 120);
  });
  for (const [sel, key] of [[appSel, 'app'], [ownerSel, 'owner'], [stateSel, 'state']]) {
    sel.addEventListener('change', () => { filters[key] = sel.value; renderTables(); });
  }

  // ---- one flag changed: replace its cell, or re-render when the row set changes ----
  async function refresh(names) {
    const fresh = await Promise.all(names.map(async (name) => {
      const d = await api('GET', `/v1/flags?${new URLSearchParams({ path: name })}`);
      return [name, d.flags.find((f) => f.name === name)];
    }));
    if (!ctx.alive) return;
    let structural = false;
    for (const [name, f] of fresh) {
      const old = cells.get(name);
      if (!f) { structural ||= byName.delete(name); continue; }
      const had = byName.has(name);
      byName.set(name, f);
      if (!had || !old) { structural = true; continue; }
      const el = f.app && f.flag && f.env ? cell(f, f.env) : otherRow(f);
      const focused = old.contains(document.activeElement);
      old.replaceWith(el);
      el.classList.add('flash');
      if (focused) (el.querySelector('.toggle') || el.querySelector('a')).focus();
    }
    renderCounts();
    if (structural) {
      renderFilters();
      const focusName = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.name;
      renderTables();
      const again = focusName && tableWrap.parentElement.querySelector(`.toggle[data-name="${CSS.escape(focusName)}"]`);
      if (again) again.focus();
    }
  }

  async function reloadAll() {
    try {
      data = await api('GET', '/v1/flags?path=/');
      if (!ctx.alive) return;
      setEnvironments(data.environments, true);
      load(data);
      renderAll();
    } catch (e) {
      announce('Could not reload the flags: ' + errorText(e));
    }
  }

  // ---- quick toggle (event delegation: one listener for every cell) ----
  root.addEventListener('click', async (ev) => {
    const btn = ev.target.closest('button.toggle');
    if (!btn) return;
    const f = byName.get(btn.dataset.name);
    if (!f) return;
    if (f.env && isProtected(f.env) &&
        !(await confirmChange(`Change ${f.flag || f.name} in protected environment ${f.env}?`))) return;
    btn.disabled = true;
    try {
      const param = await api('GET', p('/v1/parameters', f.name));
      const [value, on] = flipped(param.value);
      await api('PUT', p('/v1/parameters', f.name), { value, overwrite: true, expect_version: param.version });
      announce(`${f.flag || f.name}${f.env ? ' in ' + f.env : ''} is now ${on ? 'enabled' : 'disabled'}.`);
      await refresh([f.name]);
    } catch (e) {
      announce(`Could not change ${f.name}: ${errorText(e)}`);
      btn.disabled = false;
    }
  });

  // ---- live updates ----
  const pending = new Set();
  let batchTimer = 0;
  let source = null;
  let retry = 0;
  function flush() {
    batchTimer = 0;
    const names = [...pending];
    pending.clear();
    if (names.length > 25) reloadAll();
    else refresh(names).catch((e) => announce('Live update failed: ' + errorText(e)));
  }
  function connect() {
    source = new EventSource('/v1/watch?path=/');
    source.addEventListener('open', () => { live.textContent = 'Live updates: on.'; });
    source.addEventListener('change', (ev) => {
      let c;
      try { c = JSON.parse(ev.data); } catch { return; }
      if (!c.name || !/\/features\//.test(c.name)) return;
      pending.add(c.name);
      if (!batchTimer) batchTimer = setTimeout(flush, 30);
    });
    source.addEventListener('reset', () => {
      source.close();
      reloadAll().then(() => { if (ctx.alive) connect(); });
    });
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) { live.textContent = 'Live updates: reconnecting…'; return; }
      live.textContent = 'Live updates: disconnected, retrying…';
      clearTimeout(retry);
      retry = setTimeout(() => {
        if (!ctx.alive) return;
        // A closed stream may mean the session ended: a 401 here shows the sign-in form.
        api('GET', '/v1/session').then(() => { reloadAll(); connect(); }, () => {});
      }, 3000);
    });
  }
  connect();
  ctx.onLeave(() => { source && source.close(); clearTimeout(retry); clearTimeout(batchTimer); clearTimeout(filterTimer); });
}

/** Flips a flag value: bare true/false, or the `enabled` field of a document (default true). */
export function flipped(value) {
  const v = value.trim();
  if (v === 'true' || v === 'false') return [v === 'true' ? 'false' : 'true', v !== 'true'];
  const doc = JSON.parse(v);
  const on = doc.enabled === false;
  doc.enabled = on;
  return [JSON.stringify(doc), on];
}
