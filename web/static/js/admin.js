// Audit history, the retirement report, rollouts and scheduled changes.
import {
  h, fill, api, can, session, announce, confirmChange, protectedEnv, errorText, errorBox, timeEl, fmtTime,
  flagHref, isFlagName, title, field, table,
} from './lib.js';

const nameLink = (name) => (isFlagName(name) ? h('a', { href: flagHref(name) }, name) : h('code', null, name));

// ---- audit ----

export function auditRows(entries) {
  return entries.map((e) => h('tr', null,
    h('td', null, timeEl(e.time, false)), h('td', null, e.principal), h('td', null, e.source || ''),
    h('td', null, e.action), h('td', null, e.name || ''),
    h('td', null, `${e.old_version}→${e.new_version}`),
    h('td', { class: e.result === 'ok' ? '' : 'bad' }, e.result), h('td', null, e.detail || '')));
}
export const AUDIT_HEADERS = ['Time', 'Principal', 'Source', 'Action', 'Name', 'Versions', 'Result', 'Detail'];


export async function auditView(root, ctx) {
  root.append(title('Audit history'));
  if (!session.admin) {
    root.append(h('p', { class: 'notice', id: 'audit-denied' }, 'Your access key may not read the audit history (it needs vane:Admin).'));
    ctx.ready('audit');
    return;
  }
  const keys = [['path', 'Path', '/myapp/prod'], ['principal', 'Principal', ''], ['action', 'Action', 'ssm:PutParameter'],
    ['since', 'Since', '2026-11-01'], ['until', 'Until', '']];
  const inputs = {};
  const form = h('form', { id: 'audit-form', class: 'filters', role: 'search', 'aria-label': 'Filter the audit history' },
    keys.map(([k, label, ph]) => {
      const [l, i] = field('audit-' + k, label, { value: ctx.params.get(k) || '', placeholder: ph || null, spellcheck: 'false' });
      inputs[k] = i;
      return h('div', { class: 'row' }, l, i);
    }),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k] of keys) if (inputs[k].value.trim()) q.set(k, inputs[k].value.trim());
    const s = q.toString();
    const hash = '#/audit' + (s ? '?' + s : '');
    if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = hash;
  });
  const tbody = h('tbody');
  const out = h('div', { id: 'audit-results' });
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true }, 'More');
  root.append(form, out, more);

  const q = new URLSearchParams({ limit: '200' });
  for (const [k] of keys) { const v = ctx.params.get(k); if (v) q.set(k, v); }
  async function page(token) {
    if (token) q.set('next_token', token);
    const res = await api('GET', '/v1/audit?' + q);
    tbody.append(...auditRows(res.entries || []));
    more.hidden = !res.next_token;
    more.dataset.token = res.next_token || '';
    return (res.entries || []).length;
  }
  try {
    const n = await page('');
    fill(out, n ? h('div', { class: 'table-wrap' }, h('table', { id: 'audit-table' },
      h('caption', null, 'Oldest first'),
      h('thead', null, h('tr', null, AUDIT_HEADERS.map((t) => h('th', { scope: 'col' }, t)))), tbody))
      : h('p', { class: 'empty' }, 'No audit entries match.'));
  } catch (e) {
    if (e.status === 401) throw e;
    fill(out, errorBox(e));
  }
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { await page(more.dataset.token); } catch (e) { announce(errorText(e)); }
    more.disabled = false;
  });
  ctx.ready('audit');
}

// ---- retirement report ----

export async function staleView(root, ctx) {
  const days = Math.max(1, parseInt(ctx.params.get('days'), 10) || 30);
  const [l, input] = field('stale-days', 'Days without evaluations', { type: 'number', min: '1', step: '1', value: String(days), inputmode: 'numeric' });
  const form = h('form', { id: 'stale-form', class: 'filters' }, h('div', { class: 'row' }, l, input),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/stale?days=' + Math.max(1, parseInt(input.value, 10) || 30);
  });
  root.append(title('Retirement report'),
    h('p', { class: 'muted' }, 'Flags that are candidates for removal: never or not recently evaluated, serving one variant to everyone, or past their expiry date.'),
    form);
  const res = await api('GET', `/v1/flags/stale?${new URLSearchParams({ path: '/', days: String(days) })}`);
  if (!ctx.alive) return;
  const rows = (res.flags || []).map((f) => h('tr', { 'data-flag': f.name },
    h('td', null, h('a', { href: flagHref(f.name) }, f.name)),
    h('td', null, f.owner || '—'),
    h('td', null, h('ul', { class: 'plain' }, (f.reasons || []).map((r) => h('li', { 'data-code': r.code }, r.message || r.code)))),
    h('td', null, timeEl(f.last_evaluated))));
  root.append(rows.length
    ? table('stale-table', `${rows.length} flag${rows.length === 1 ? '' : 's'} to review (${res.days || days} days)`,
      ['Flag', 'Owner', 'Reasons', 'Last evaluated'], rows)
    : h('p', { class: 'empty', id: 'stale-empty' }, `No flag to retire (${days} days).`));
  ctx.ready('stale');
}

// ---- rollouts ----

const LABELS = { pause: 'Pause', resume: 'Resume', complete: 'Complete', cancel: 'Cancel', rollback: 'Roll back' };
const ACTIVE = new Set(['running', 'baking', 'paused']);

/** The actions a rollout in its state accepts. */
function actionsFor(r) {
  if (r.state === 'running' || r.state === 'baking') return ['pause', 'complete', 'cancel', 'rollback'];
  if (r.state === 'paused') return ['resume', 'complete', 'cancel', 'rollback'];
  if (r.state === 'rolled_back') return [];
  return ['rollback']; // an ended rollout may be rolled back while nobody has written the name since
}

/** Buttons for a rollout's actions; `after(updated)` runs on success. */
export function rolloutActions(r, after) {
  const flag = r.name.split('/').pop();
  return h('div', { class: 'buttons actions' }, actionsFor(r).map((a) => {
    const b = h('button', { type: 'button', 'data-action': a, class: a === 'rollback' ? 'danger' : null,
      'aria-label': `${LABELS[a]} rollout ${r.id} of ${flag}` }, LABELS[a]);
    b.addEventListener('click', async () => {
      if (a === 'complete' || a === 'rollback') {
        const env = await protectedEnv(r.name);
        if (env && !(await confirmChange(`Change ${flag} in protected environment ${env}? (${LABELS[a].toLowerCase()} rollout ${r.id})`))) return;
      }
      b.disabled = true;
      try {
        const res = await api('POST', `/v1/rollouts/${encodeURIComponent(r.id)}/${a}`);
        announce(`Rollout ${r.id}: ${res.state}.`);
        after(res);
      } catch (e) {
        announce(`${LABELS[a]} ${r.id}: ${errorText(e)}`);
        b.disabled = false;
      }
    });
    return b;
  }));
}

/** A progress bar and its text: "25% · step 1 of 4". */
export function rolloutProgress(r) {
  const steps = (r.plan || []).length;
  const flag = r.kind !== 'value';
  const bar = h('progress', { max: flag ? '100' : String(steps || 1), value: String(flag ? r.share || 0 : r.step || 0),
    'aria-label': `Progress of rollout ${r.id}` });
  return h('div', { class: 'progress' }, bar,
    h('span', null, `${flag ? (r.share || 0) + '% · ' : ''}step ${r.step || 0} of ${steps}`));
}

export async function rolloutsView(root, ctx) {
  const activeOnly = ctx.params.get('active') === 'true';
  const toggle = h('a', { href: activeOnly ? '#/rollouts' : '#/rollouts?active=true' }, activeOnly ? 'Show all rollouts' : 'Show active rollouts only');
  root.append(title('Rollouts'), h('p', null, toggle));
  const list = [];
  const q = { limit: '200' };
  if (activeOnly) q.active = 'true';
  let token = '';
  const wrap = h('div', { id: 'rollouts-results' });
  const more = h('button', { type: 'button', id: 'rollouts-more', hidden: true }, 'More');
  root.append(wrap, more);

  async function load() {
    const params = new URLSearchParams(q);
    if (token) params.set('next_token', token);
    const res = await api('GET', '/v1/rollouts?' + params);
    list.push(...(res.rollouts || []));
    token = res.next_token || '';
    more.hidden = !token;
    const names = [...new Set(list.map((r) => r.name))];
    const allowed = await can(names.map((n) => ['vane:UpdateRollout', n]));
    const may = new Map(names.map((n, i) => [n, allowed[i]]));
    draw(may);
  }
  function draw(may) {
    if (!list.length) { fill(wrap, h('p', { class: 'empty' }, 'No rollouts.')); return; }
    const rows = list.map((r) => h('tr', { 'data-rollout': r.id, class: ACTIVE.has(r.state) ? 'active' : null },
      h('td', null, nameLink(r.name)),
      h('td', null, h('code', null, r.id)),
      h('td', null, h('span', { class: 'rstate rs-' + r.state }, r.state.replace('_', ' ')), r.reason && h('div', { class: 'muted small' }, r.reason)),
      h('td', null, rolloutProgress(r)),
      h('td', null, ACTIVE.has(r.state) && r.next_at ? timeEl(r.next_at) : r.ended ? ['ended ', timeEl(r.ended)] : '—'),
      h('td', null, r.created_by || ''),
      h('td', null, may.get(r.name) ? rolloutActions(r, (u) => { Object.assign(r, u); draw(may); }) : '')));
    fill(wrap, table('rollouts-table', 'Rollouts, newest first',
      ['Name', 'ID', 'State', 'Progress', 'Next step', 'Started by', 'Actions'], rows));
  }
  more.addEventListener('click', () => load().catch((e) => announce(errorText(e))));
  await load();
  ctx.ready('rollouts');
}

// ---- scheduled changes ----

function scheduleWhat(s) {
  if (s.action === 'put') return ['put ', s.value != null ? h('code', null, s.value) : '(value hidden)'];
  if (s.action === 'label') return `label ${(s.labels || []).join(', ')}${s.version ? ' on v' + s.version : ''}`;
  if (s.action === 'rollout') return `rollout (${(s.rollout && s.rollout.strategy) || 'all-at-once'})`;
  return s.action;
}

export async function schedulesView(root, ctx) {
  const state = ctx.params.get('state') || '';
  const sel = h('select', { id: 'schedules-state' }, ['', 'pending', 'done', 'failed', 'cancelled'].map((s) =>
    h('option', { value: s }, s || 'All states')));
  sel.value = state;
  sel.addEventListener('change', () => { location.hash = '#/schedules' + (sel.value ? '?state=' + sel.value : ''); });
  root.append(title('Scheduled changes'),
    h('div', { class: 'filters' }, h('div', { class: 'row' }, h('label', { for: 'schedules-state' }, 'State'), sel)));
  const q = new URLSearchParams({ limit: '200' });
  if (state) q.set('state', state);
  const res = await api('GET', '/v1/schedules?' + q);
  if (!ctx.alive) return;
  const list = res.schedules || [];
  const pendingNames = [...new Set(list.filter((s) => s.state === 'pending').map((s) => s.name))];
  const allowed = await can(pendingNames.map((n) => ['vane:CancelScheduledChange', n]));
  const may = new Map(pendingNames.map((n, i) => [n, allowed[i]]));
  const wrap = h('div', { id: 'schedules-results' });
  function draw() {
    if (!list.length) { fill(wrap, h('p', { class: 'empty' }, 'No scheduled changes.')); return; }
    fill(wrap, table('schedules-table', 'Scheduled changes by time',
      ['Name', 'ID', 'Change', 'At', 'State', 'Result', 'By', 'Actions'],
      list.map((s) => {
        let cancel = '';
        if (s.state === 'pending' && may.get(s.name)) {
          cancel = h('button', { type: 'button', 'data-action': 'cancel', 'aria-label': `Cancel scheduled change ${s.id}` }, 'Cancel');
          cancel.addEventListener('click', async () => {
            cancel.disabled = true;
            try {
              Object.assign(s, await api('POST', `/v1/schedules/${encodeURIComponent(s.id)}/cancel`));
              announce(`Scheduled change ${s.id} cancelled.`);
              draw();
            } catch (e) {
              announce(`Cancel ${s.id}: ${errorText(e)}`);
              cancel.disabled = false;
            }
          });
        }
        return h('tr', { 'data-schedule': s.id },
          h('td', null, nameLink(s.name)), h('td', null, h('code', null, s.id)), h('td', null, scheduleWhat(s)),
          h('td', null, h('time', { datetime: s.at }, fmtTime(s.at))),
          h('td', null, h('span', { class: 'rstate rs-' + s.state }, s.state)),
          h('td', null, s.result || '', s.late ? ` (late by ${s.late})` : ''),
          h('td', null, s.created_by || ''), h('td', null, cancel));
      })));
  }
  draw();
  root.append(wrap);
  ctx.ready('schedules');
}
