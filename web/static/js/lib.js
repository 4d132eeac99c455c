// Shared helpers: DOM building, the API client, permissions, formatting, the confirmation dialog.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'indeterminate']);

function build(el, attrs, children) {
  if (attrs) {
    for (const key in attrs) {
      const v = attrs[key];
      if (v == null || v === false) continue;
      if (key === 'class' && el.namespaceURI !== SVG_NS) el.className = v;
      else if (typeof v === 'function') el.addEventListener(key.slice(2), v); // onclick: fn
      else if (PROPS.has(key)) el[key] = v;
      else el.setAttribute(key, v === true ? '' : v);
    }
  }
  if (children.length === 1 && typeof children[0] === 'string') el.textContent = children[0]; // the common case, faster
  else append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c); // strings become text nodes: never parsed as markup
  }
}

/** h('a', {href: '#/x', class: 'y'}, 'text', child…) builds an element. Text is always text. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** Replaces an element's children (same rules as h: arrays flattened, null and false skipped). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** svg('rect', {x: 1}) builds an SVG element. */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// ---- session and API ----

export const session = { auth: false, principal: '', name: '', admin: false, csrf: '' };
let unauthorized = () => {};
export function onUnauthorized(fn) { unauthorized = fn; }

export class ApiError extends Error {
  constructor(status, err) {
    super((err && err.message) || `The server answered ${status}.`);
    this.status = status;
    this.code = err && err.code;
    this.detail = err && err.detail;
    this.field = err && err.field;
  }
}

/** api('GET', '/v1/…', body?) returns the parsed JSON (null for 204) or throws ApiError. */
export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = {};
  if (session.csrf) headers['X-Vane-CSRF'] = session.csrf;
  const opts = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch {
    throw new ApiError(0, { message: 'The server could not be reached.' });
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (res.status === 202 && data && data.change_request) {
    // The write needs approval: the server made a change request of it
    // instead. Nothing was written, so callers treat it as a refusal
    // whose message says what happened.
    const id = data.change_request.id;
    throw new ApiError(202, {
      code: 'approval_required',
      message: `This change needs approval and was not made yet: change request ${id} was created. ` +
        `Another person approves it (vane cr approve ${id}), then it is applied (vane cr apply ${id}).`,
    });
  }
  if (!res.ok) {
    const e = new ApiError(res.status, data && data.error);
    if (res.status === 401 && !quiet401) unauthorized();
    throw e;
  }
  return data;
}

/** Every page of a listing: follows next_token and concatenates `key`. */
export async function allPages(path, params, key) {
  const out = [];
  let token = '';
  do {
    const q = new URLSearchParams(params);
    if (token) q.set('next_token', token);
    const page = await api('GET', `${path}?${q}`);
    out.push(...(page[key] || []));
    token = page.next_token || '';
  } while (token);
  return out;
}

/** The URL path of a parameter name under a route prefix: p('/v1/parameters', 'region'). */
export const p = (prefix, name) => prefix + (name.startsWith('/') ? name : '/' + name);

// ---- permissions: POST /v1/session/check, cached ----

const permCache = new Map();
/** can([[action, resource], …]) → array of booleans. Unknown answers count as allowed (the server still decides). */
export async function can(checks) {
  const key = ([a, r]) => a + ' ' + r;
  const todo = checks.filter((c) => !permCache.has(key(c)));
  if (todo.length) {
    try {
      const res = await api('POST', '/v1/session/check', {
        checks: todo.map(([action, resource]) => ({ action, resource })),
      });
      todo.forEach((c, i) => permCache.set(key(c), res.allowed[i] !== false));
    } catch (e) {
      if (e.status === 401) throw e;
      todo.forEach((c) => permCache.set(key(c), true));
    }
  }
  return checks.map((c) => permCache.get(key(c)));
}
export function clearPermissions() { permCache.clear(); }

// ---- environments (which ones are protected), from GET /v1/flags ----

const envs = new Map(); // name → protected
let envsComplete = false;
/** Notes environments a /v1/flags answer listed; `complete` when it was for the whole tree. */
export function setEnvironments(list, complete = false) {
  for (const e of list || []) envs.set(e.name, !!e.protected);
  if (complete) envsComplete = true;
}
/** The protected environment of a name /{app}/{env}/…, or ''. */
export async function protectedEnv(name) {
  const env = name.split('/')[2];
  if (!env) return '';
  if (!envs.has(env) && !envsComplete) {
    try { setEnvironments((await api('GET', '/v1/flags?path=/')).environments, true); } catch (e) {
      if (e.status === 401) throw e;
      envsComplete = true;
    }
  }
  return envs.get(env) ? env : '';
}

// ---- confirmation dialog ----

/** confirmChange('Change x in protected environment prod?') resolves true on Confirm. */
export function confirmChange(text) {
  const dlg = document.getElementById('confirm-dialog');
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  const back = document.activeElement;
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    const done = (yes) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('close', onClose);
      if (dlg.open) dlg.close();
      if (back && back.isConnected) back.focus();
      resolve(yes);
    };
    const onOk = () => done(true);
    const onCancel = () => done(false);
    const onClose = () => done(false); // Escape
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('close', onClose);
    dlg.showModal();
    cancel.focus();
  });
}

// ---- status messages ----

let statusTimer;
/** A short polite announcement at the bottom of the page. */
export function announce(text) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => el.classList.remove('show'), 5000);
}

export const errorText = (e) => (e && e.message) || String(e);
export const errorBox = (e) => h('p', { class: 'error', role: 'alert' }, errorText(e));

// ---- formatting ----

const num = new Intl.NumberFormat('en');
export const fmtNum = (n) => num.format(n || 0);

/** '3h ago', 'in 2d', 'never'. */
export function relTime(iso, now = Date.now()) {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  const a = Math.abs(s);
  const [v, u] = a < 60 ? [a, 's'] : a < 3600 ? [a / 60, 'm'] : a < 86400 ? [a / 3600, 'h'] : [a / 86400, 'd'];
  if (a < 10) return 'just now';
  const txt = Math.floor(v) + u;
  return s >= 0 ? `${txt} ago` : `in ${txt}`;
}

/** 2026-11-30 10:00 UTC */
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** A <time> element with an absolute title and a relative or absolute text. */
export function timeEl(iso, relative = true) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, title: fmtTime(iso) }, relative ? relTime(iso) : fmtTime(iso));
}

/** Pretty-print a value that is JSON, otherwise return it unchanged. */
export function pretty(value) {
  try {
    const v = JSON.parse(value);
    if (v !== null && typeof v === 'object') return JSON.stringify(v, null, 2);
  } catch { /* not JSON */ }
  return value;
}

export const isFlagName = (name) => /\/features\/[^/]+$/.test(name);
export const flagHref = (name) => '#/flag/' + name.replace(/^\//, '');

/** A page heading that the router focuses after navigation. */
export const title = (text, ...more) => h('h1', { tabindex: '-1' }, text, ...more);

/** A labelled input: returns [label, input]. */
export function field(id, label, attrs = {}) {
  return [h('label', { for: id }, label), h('input', { id, name: id, ...attrs })];
}

/** A plain table: headers, rows of cells (nodes or strings), with a caption. */
export function table(id, caption, headers, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', { id },
      caption && h('caption', null, caption),
      h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, rows)));
}
