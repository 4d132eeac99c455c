// One flag: settings form, JSON editor, evaluation, usage chart, history with diff, audit trail, rollout.
import {
  h, fill, svg, api, p, allPages, can, session, confirmChange, errorText, errorBox, fmtNum, fmtTime,
  timeEl, pretty, title, setEnvironments, table,
} from './lib.js';
import { diffLines } from './diff.js';
import { stateText, STALE_TEXT } from './flags.js';
import { rolloutActions, rolloutProgress, auditRows, AUDIT_HEADERS } from './admin.js';

// Form controls: id, label, document field, kind, hint.
const FIELDS = [
  ['f-enabled', 'Enabled', 'enabled', 'bool', 'Off serves the off variant to everyone (the kill switch).'],
  ['f-rollout', 'Rollout percentage', 'rollout_percentage', 'pct', 'From 0 to 100; empty for no percentage rollout.'],
  ['f-allowed-users', 'Allowed user IDs', 'allowed_user_ids', 'list', 'Comma-separated; they get the on variant.'],
  ['f-excluded-users', 'Excluded user IDs', 'excluded_user_ids', 'list', 'Comma-separated; they get the off variant.'],
  ['f-regions', 'Allowed regions', 'allowed_regions', 'list', 'Comma-separated; empty for every region.'],
  ['f-default', 'Default', 'default', 'value', 'What is served when targeting decides nothing: a value such as true or blue.'],
  ['f-description', 'Description', 'description', 'text', ''],
  ['f-owner', 'Owner', 'owner', 'text', 'A team or a person, for the retirement report.'],
  ['f-expires', 'Expires', 'expires', 'text', 'A date such as 2027-01-31 or an RFC 3339 time.'],
];

/** The id of the control a server error's JSON path belongs to, or 'f-json'. */
export function controlFor(path) {
  if (!path) return 'f-json';
  const at = (key) => path === '$.' + key || path.startsWith('$.' + key + '.') || path.startsWith('$.' + key + '[');
  if (at('default_variant')) return 'f-default';
  const f = FIELDS.find(([, , key]) => at(key));
  return f ? f[0] : 'f-json';
}

const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

export async function flagView(root, ctx) {
  const name = '/' + ctx.rest.replace(/^\/+/, '');
  await render(root, ctx, name, '');
}

async function render(root, ctx, name, flash) {
  fill(root, title(name), h('p', { class: 'muted loading' }, 'Loading…'));
  const [param, info] = await Promise.all([
    api('GET', p('/v1/parameters', name)),
    api('GET', `/v1/flags?${new URLSearchParams({ path: name })}`).catch((e) => {
      if (e.status === 401) throw e;
      return null;
    }),
  ]);
  if (!ctx.alive) return;
  if (info) setEnvironments(info.environments);
  const flag = (info && info.flags.find((f) => f.name === name)) || {};
  const env = flag.env || name.split('/')[2] || '';
  const protectedEnv = !!(info && env && (info.environments || []).some((e) => e.name === env && e.protected));
  const [mayWrite, mayRollout] = await can([['ssm:PutParameter', name], ['vane:UpdateRollout', name]]);
  if (!ctx.alive) return;

  const reload = (msg) => render(root, ctx, name, msg).then(() => {
    const s = root.querySelector('#flag-flash');
    if (s) s.focus();
  });
  const confirmWrite = () => !protectedEnv ||
    confirmChange(`Change ${flag.flag || name.split('/').pop()} in protected environment ${env}?`);

  /** PUT the document; on error returns it to show. */
  async function save(value) {
    if (!(await confirmWrite())) return null;
    try {
      const res = await api('PUT', p('/v1/parameters', name),
        { value, overwrite: true, type: 'String', expect_version: param.version });
      await reload(`Saved version ${res.version}.`);
      return null;
    } catch (e) {
      return e;
    }
  }

  const head = h('header', { class: 'flag-head' },
    title(flag.flag || name.split('/').pop(), ' ', h('span', { class: 'state st-' + (flag.state || 'unknown') }, flag.state ? stateText(flag) : param.type)),
    h('p', { class: 'crumbs' }, h('code', null, name),
      flag.app && h('span', null, ' · application ', h('b', null, flag.app)),
      env && h('span', null, ' · environment ', h('b', null, env)),
      protectedEnv && h('span', { class: 'badge protected' }, 'protected')),
    h('p', { class: 'muted' }, `Version ${param.version}, changed `, timeEl(param.last_modified),
      ` by ${param.last_modified_user || 'unknown'}. Last evaluated `, timeEl(flag.last_evaluated),
      flag.evaluations_30d != null ? `; ${fmtNum(flag.evaluations_30d)} evaluations in 30 days.` : '.'),
    flag.stale && h('p', { class: 'notice' }, h('span', { class: 'badge stale' }, 'stale'), ' ',
      flag.stale.map((c) => STALE_TEXT[c] || c).join(', ')),
    flag.error && h('p', { class: 'error' }, flag.error),
    flash && h('p', { id: 'flag-flash', class: 'ok', role: 'status', tabindex: '-1' }, flash));

  // ---- the document ----
  let doc = null;
  let bare = false;
  const raw = param.value;
  if (raw.trim() === 'true' || raw.trim() === 'false') { bare = true; doc = { enabled: raw.trim() === 'true' }; }
  else { try { doc = JSON.parse(raw); } catch { doc = null; } }
  const docOk = doc && typeof doc === 'object' && !Array.isArray(doc);
  const defaultKey = docOk && 'default_variant' in doc && !('default' in doc) ? 'default_variant' : 'default';

  // ---- settings form ----
  const controls = {};
  const errs = {};
  function setError(id, msg) {
    const c = controls[id] || (id === 'f-json' ? jsonArea : null);
    const slot = errs[id];
    slot.textContent = msg || '';
    if (!c) return;
    if (msg) { c.setAttribute('aria-invalid', 'true'); c.setAttribute('aria-describedby', id + '-error'); }
    else { c.removeAttribute('aria-invalid'); c.setAttribute('aria-describedby', c.dataset.hint || ''); if (!c.dataset.hint) c.removeAttribute('aria-describedby'); }
  }
  function clearErrors() { for (const id in errs) setError(id, ''); }
  function showServerError(e) {
    const id = controlFor(e.field);
    setError(id, errorText(e));
    (controls[id] || jsonArea).focus();
  }

  const rows = FIELDS.map(([id, label, key, kind, hint]) => {
    if (key === 'default' && defaultKey === 'default_variant') label = 'Default variant';
    const hintId = hint ? id + '-hint' : '';
    const attrs = { id, name: key, 'aria-describedby': hintId || null, 'data-hint': hintId || null, disabled: !mayWrite || !docOk };
    const v = docOk ? doc[key === 'default' ? defaultKey : key] : undefined;
    let input;
    if (kind === 'bool') input = h('input', { ...attrs, type: 'checkbox', checked: !docOk || doc.enabled !== false });
    else if (kind === 'pct') input = h('input', { ...attrs, type: 'number', min: '0', max: '100', step: 'any', inputmode: 'decimal', value: v ?? '' });
    else if (kind === 'list') input = h('input', { ...attrs, type: 'text', value: Array.isArray(v) ? v.join(', ') : '' });
    else if (kind === 'value') input = h('input', { ...attrs, type: 'text', value: v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v) });
    else input = h('input', { ...attrs, type: 'text', value: v ?? '', placeholder: key === 'expires' ? '2027-01-31' : null });
    controls[id] = input;
    errs[id] = h('p', { id: id + '-error', class: 'field-error', role: 'alert' });
    return h('div', { class: 'row' + (kind === 'bool' ? ' check' : '') },
      kind === 'bool' ? [input, h('label', { for: id }, label)] : [h('label', { for: id }, label), input],
      hint && h('p', { id: hintId, class: 'hint' }, hint),
      errs[id]);
  });

  /** The document the form describes, built on the current one so rules, variants and the rest are kept. */
  function formValue() {
    const d = structuredClone(doc);
    const c = controls;
    if (bare || 'enabled' in doc || !c['f-enabled'].checked) d.enabled = c['f-enabled'].checked;
    if (c['f-rollout'].validity.badInput) throw Object.assign(new Error('Enter a number from 0 to 100.'), { field: '$.rollout_percentage' });
    const pct = c['f-rollout'].value.trim();
    if (pct === '') delete d.rollout_percentage; else d.rollout_percentage = Number(pct);
    for (const [id, key] of [['f-allowed-users', 'allowed_user_ids'], ['f-excluded-users', 'excluded_user_ids'], ['f-regions', 'allowed_regions']]) {
      const list = splitList(c[id].value);
      if (list.length) d[key] = list; else delete d[key];
    }
    const def = c['f-default'].value.trim();
    if (def === '') delete d[defaultKey];
    else if (defaultKey === 'default_variant') d.default_variant = def;
    else {
      let v = def;
      try { v = JSON.parse(def); } catch { /* a plain string */ }
      d.default = v;
    }
    for (const key of ['description', 'owner', 'expires']) {
      const v = c['f-' + key].value.trim();
      if (v) d[key] = v; else delete d[key];
    }
    const keys = Object.keys(d);
    if (bare && keys.length === 1 && keys[0] === 'enabled') return String(d.enabled);
    return JSON.stringify(d);
  }

  const formStatus = h('p', { id: 'form-status', class: 'muted', role: 'status' });
  const saveForm = mayWrite && docOk && h('button', { type: 'submit', id: 'save-form', class: 'primary' }, 'Save');
  const form = h('form', { id: 'flag-form', class: 'card', novalidate: true, 'aria-labelledby': 'settings-h' },
    h('h2', { id: 'settings-h' }, 'Settings'),
    !docOk && h('p', { class: 'error' }, 'This value is not a flag document; edit it as JSON below.'),
    !mayWrite && h('p', { class: 'muted' }, 'Your access key may not change this flag.'),
    h('div', { class: 'grid' }, rows),
    h('div', { class: 'buttons' }, saveForm, formStatus));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!saveForm) return;
    clearErrors();
    formStatus.textContent = '';
    let value;
    try { value = formValue(); } catch (e) { showServerError(e); return; }
    saveForm.disabled = true;
    const e = await save(value);
    if (!e) return;
    saveForm.disabled = false;
    showServerError(e);
    formStatus.textContent = controlFor(e.field) === 'f-json' ? 'Not saved: see the message by the JSON document.' : 'Not saved.';
  });

  // ---- JSON editor ----
  const jsonArea = h('textarea', { id: 'f-json', rows: '14', spellcheck: 'false', autocapitalize: 'off', readonly: !mayWrite, class: 'code' });
  jsonArea.value = pretty(raw);
  errs['f-json'] = h('p', { id: 'f-json-error', class: 'field-error', role: 'alert' });
  const saveJson = mayWrite && h('button', { type: 'submit', id: 'save-json', class: 'primary' }, 'Save JSON');
  const jsonForm = h('form', { id: 'json-form', class: 'card', novalidate: true, 'aria-labelledby': 'json-h' },
    h('h2', { id: 'json-h' }, 'Document'),
    h('label', { for: 'f-json' }, 'Flag document (JSON)'),
    jsonArea, errs['f-json'],
    h('div', { class: 'buttons' }, saveJson));
  jsonForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!saveJson) return;
    clearErrors();
    let value;
    try { value = JSON.stringify(JSON.parse(jsonArea.value)); } catch (e) {
      setError('f-json', 'This is not valid JSON: ' + e.message);
      jsonArea.focus();
      return;
    }
    saveJson.disabled = true;
    const e = await save(value);
    if (!e) return;
    saveJson.disabled = false;
    showServerError(e);
  });

  // ---- evaluate ----
  const ctxArea = h('textarea', { id: 'eval-context', rows: '4', spellcheck: 'false', class: 'code' });
  ctxArea.value = '{"targetingKey":"user-1"}';
  const evalErr = h('p', { id: 'eval-error', class: 'field-error', role: 'alert' });
  const evalOut = h('dl', { id: 'eval-result', class: 'kv', 'aria-live': 'polite' });
  const evalForm = h('form', { id: 'eval-form', class: 'card', novalidate: true, 'aria-labelledby': 'eval-h' },
    h('h2', { id: 'eval-h' }, 'Evaluate as'),
    h('label', { for: 'eval-context' }, 'Evaluation context (JSON)'),
    ctxArea, evalErr,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'eval-run' }, 'Evaluate')),
    evalOut);
  evalForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    evalErr.textContent = '';
    ctxArea.removeAttribute('aria-invalid');
    let context;
    try {
      context = JSON.parse(ctxArea.value || '{}');
      if (!context || typeof context !== 'object' || Array.isArray(context)) throw new Error('the context must be a JSON object');
    } catch (e) {
      evalErr.textContent = 'Not a JSON object: ' + e.message;
      ctxArea.setAttribute('aria-invalid', 'true');
      ctxArea.setAttribute('aria-describedby', 'eval-error');
      ctxArea.focus();
      return;
    }
    try {
      const r = await api('POST', p('/v1/evaluate', name), { context });
      const item = (k, v) => [h('dt', null, k), h('dd', { 'data-key': k }, v == null || v === '' ? '—' : v)];
      fill(evalOut, ...[
        item('value', r.value === undefined ? null : JSON.stringify(r.value)),
        item('variant', r.variant), item('reason', r.reason), item('rule', r.rule),
        item('error_code', r.error_code),
        r.error_message ? item('error_message', r.error_message) : [],
        item('version', r.version)].flat());
    } catch (e) {
      fill(evalOut);
      evalErr.textContent = errorText(e);
    }
  });

  // ---- sections filled in the background ----
  const rolloutSec = h('section', { id: 'rollout-section', class: 'card', 'aria-labelledby': 'rollout-h', hidden: true });
  const usageSec = h('section', { id: 'usage-section', class: 'card', 'aria-labelledby': 'usage-h' },
    h('h2', { id: 'usage-h' }, 'Evaluations, last 30 days'), h('p', { class: 'muted' }, 'Loading…'));
  const histSec = h('section', { id: 'history-section', class: 'card', 'aria-labelledby': 'history-h' },
    h('h2', { id: 'history-h' }, 'History'), h('p', { class: 'muted' }, 'Loading…'));
  const auditSec = session.admin && h('section', { id: 'audit-section', class: 'card', 'aria-labelledby': 'flag-audit-h' },
    h('h2', { id: 'flag-audit-h' }, 'Audit trail'), h('p', { class: 'muted' }, 'Loading…'));

  fill(root, head, rolloutSec,
    h('div', { class: 'columns' }, h('div', null, form, evalForm), h('div', null, jsonForm)),
    usageSec, histSec, auditSec);

  const guard = (sec, fn) => fn().catch((e) => {
    if (e.status === 401 || !ctx.alive) return;
    fill(sec, sec.firstChild, errorBox(e));
  });
  await Promise.all([
    guard(rolloutSec, () => loadRollout(rolloutSec, name, mayRollout, () => reload('Rollout updated.'))),
    guard(usageSec, () => loadUsage(usageSec, name)),
    guard(histSec, () => loadHistory(histSec, name)),
    auditSec && guard(auditSec, () => loadAudit(auditSec, name)),
  ]);
  ctx.ready('flag');
}

async function loadRollout(sec, name, allowed, after) {
  const res = await api('GET', `/v1/rollouts?${new URLSearchParams({ path: name, active: 'true' })}`);
  const list = (res.rollouts || []).filter((r) => r.name === name);
  if (!list.length) return;
  sec.hidden = false;
  fill(sec, h('h2', { id: 'rollout-h' }, 'Rollout in progress'),
    ...list.map((r) => h('div', { class: 'rollout', 'data-rollout': r.id },
      h('p', null, h('b', { class: 'rollout-state' }, r.state), ` · ${r.spec && r.spec.strategy || ''} · `,
        h('code', null, r.id), r.next_at && [' · next step ', timeEl(r.next_at)]),
      rolloutProgress(r),
      r.monitors && r.monitors.length > 0 && h('ul', { class: 'monitors' },
        r.monitors.map((m) => h('li', null, `${m.name}: ${m.state}`, m.detail ? ` (${m.detail})` : ''))),
      allowed && rolloutActions(r, after))));
}

// ---- usage chart ----

const PALETTE = ['#1a7f37', '#57606a', '#0969da', '#8250df', '#bc4c00', '#1b7c83', '#bf3989', '#4d2d00'];
const ERROR_COLOUR = '#cf222e';

async function loadUsage(sec, name) {
  const since = new Date(Date.now() - 29 * 86400e3).toISOString().slice(0, 10);
  let res;
  try {
    res = await api('GET', `/v1/usage?${new URLSearchParams({ path: name, since })}`);
  } catch (e) {
    if (e.status !== 503) throw e;
    fill(sec, sec.firstChild, h('p', { id: 'usage-off', class: 'muted' }, 'Usage tracking is off on this server (vane serve --flag-usage=false).'));
    return;
  }
  const rows = (res.usage || []).filter((u) => u.name === name);
  fill(sec, sec.firstChild, ...usageChart(rows, since, name.split('/').pop()));
}

/** A stacked bar chart (SVG) of evaluations per day and variant, with a legend. */
export function usageChart(rows, since, label) {
  const days = [];
  for (let t = Date.parse(since + 'T00:00:00Z'), end = Date.now(); t <= end; t += 86400e3) days.push(new Date(t).toISOString().slice(0, 10));
  const vname = (v) => (v === '' ? 'error' : v);
  const variants = [...new Set(rows.map((r) => vname(r.variant)))].sort((a, b) => (a === 'error') - (b === 'error') || (a < b ? -1 : 1));
  // A boolean flag's on and off keep their overview colours; other
  // variants take the palette in order.
  const fixed = { error: ERROR_COLOUR, on: PALETTE[0], off: PALETTE[1] };
  let nextColour = 2;
  const colour = new Map(variants.map((v) => [v, fixed[v] || PALETTE[nextColour++ % PALETTE.length]]));
  const perDay = new Map(days.map((d) => [d, new Map()]));
  const totals = new Map(variants.map((v) => [v, 0]));
  for (const r of rows) {
    const m = perDay.get(r.day);
    if (!m) continue;
    const v = vname(r.variant);
    m.set(v, (m.get(v) || 0) + r.count);
    totals.set(v, totals.get(v) + r.count);
  }
  const dayTotal = (m) => [...m.values()].reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...[...perDay.values()].map(dayTotal));
  const total = [...totals.values()].reduce((a, b) => a + b, 0);

  const W = 640; const H = 180; const left = 44; const bottom = 22; const top = 8;
  const plotH = H - bottom - top;
  const bw = (W - left) / days.length;
  const summary = total
    ? `Evaluations of ${label} per day since ${since}: ${fmtNum(total)} in total; ` +
      variants.map((v) => `${v} ${fmtNum(totals.get(v))}`).join(', ') + '.'
    : `No evaluations of ${label} since ${since}.`;
  const chart = svg('svg', { id: 'usage-chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary },
    svg('line', { x1: left, x2: W, y1: top + plotH, y2: top + plotH, class: 'axis' }),
    svg('text', { x: left - 6, y: top + 10, class: 'tick', 'text-anchor': 'end' }, fmtNum(max)),
    svg('text', { x: left - 6, y: top + plotH, class: 'tick', 'text-anchor': 'end' }, '0'));
  days.forEach((d, i) => {
    const m = perDay.get(d);
    let y = top + plotH;
    const x = left + i * bw + 1;
    for (const v of variants) {
      const c = m.get(v);
      if (!c) continue;
      const hgt = (c / max) * plotH;
      y -= hgt;
      chart.append(svg('rect', { x, y, width: Math.max(1, bw - 2), height: hgt, fill: colour.get(v) },
        svg('title', null, `${d}: ${v} ${fmtNum(c)}`)));
    }
    if (i % 7 === 0 || (i === days.length - 1 && i % 7 > 3)) {
      chart.append(svg('text', { x: x + bw / 2, y: H - 6, class: 'tick', 'text-anchor': 'middle' }, d.slice(5)));
    }
  });
  const legend = h('ul', { class: 'legend', id: 'usage-legend' }, variants.map((v) => {
    const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = colour.get(v);
    return h('li', null, sw, `${v}: ${fmtNum(totals.get(v))}`);
  }));
  return [h('figure', { class: 'chart-wrap' }, chart, h('figcaption', { class: 'muted' }, summary)), legend];
}

// ---- history and diff ----

async function loadHistory(sec, name) {
  const versions = await allPages(p('/v1/history', name), { limit: '1000' }, 'parameters');
  const byVersion = new Map(versions.map((v) => [String(v.version), v]));
  const opt = (v) => h('option', { value: String(v.version) }, `v${v.version} — ${fmtTime(v.last_modified)}${v.labels ? ' [' + v.labels.join(', ') + ']' : ''}`);
  const from = h('select', { id: 'diff-from' }, h('option', { value: '0' }, '(nothing)'), versions.map(opt));
  const to = h('select', { id: 'diff-to' }, versions.map(opt));
  const last = versions[versions.length - 1];
  const prev = versions[versions.length - 2];
  from.value = prev ? String(prev.version) : '0';
  to.value = last ? String(last.version) : '';
  const out = h('div', { id: 'diff', class: 'diff', role: 'region', 'aria-label': 'Differences', tabindex: '0' });
  const stat = h('p', { id: 'diff-summary', class: 'muted', 'aria-live': 'polite' });
  function show() {
    const a = byVersion.get(from.value);
    const b = byVersion.get(to.value);
    const lines = diffLines(a ? pretty(a.value) : '', b ? pretty(b.value) : '');
    let add = 0; let del = 0;
    fill(out, ...lines.map(({ op, line }) => {
      if (op === '+') add++; else if (op === '-') del++;
      return h('div', { class: op === '+' ? 'line add' : op === '-' ? 'line del' : 'line same' }, op + line);
    }));
    stat.textContent = add || del ? `${add} line${add === 1 ? '' : 's'} added, ${del} removed.` : 'No differences.';
  }
  from.addEventListener('change', show);
  to.addEventListener('change', show);
  show();
  const rows = versions.slice().reverse().map((v) => h('tr', { 'data-version': v.version },
    h('td', null, 'v' + v.version), h('td', null, timeEl(v.last_modified, false)), h('td', null, v.last_modified_user || ''),
    h('td', null, (v.labels || []).map((l) => h('span', { class: 'badge label' }, l)))));
  fill(sec, sec.firstChild,
    table('history', 'Versions, newest first', ['Version', 'Changed', 'By', 'Labels'], rows),
    h('h3', null, 'Compare versions'),
    h('div', { class: 'filters' },
      h('div', { class: 'row' }, h('label', { for: 'diff-from' }, 'From'), from),
      h('div', { class: 'row' }, h('label', { for: 'diff-to' }, 'To'), to)),
    stat, out);
}

// ---- audit trail ----


async function loadAudit(sec, name) {
  const res = await api('GET', `/v1/audit?${new URLSearchParams({ path: name, limit: '100' })}`);
  const entries = (res.entries || []).filter((e) => e.name === name);
  fill(sec, sec.firstChild, entries.length
    ? table('flag-audit', 'Changes to this flag, oldest first', AUDIT_HEADERS, auditRows(entries))
    : h('p', { class: 'muted' }, 'No audit entries for this flag.'));
}
