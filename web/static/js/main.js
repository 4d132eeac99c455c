// Entry point: session, sign-in, header and the hash router.
import { h, fill, api, session, onUnauthorized, clearPermissions, errorText, title, field } from './lib.js';
import { flagsView } from './flags.js';
import { flagView } from './flag.js';
import { compareView, parametersView } from './params.js';
import { auditView, staleView, rolloutsView, schedulesView } from './admin.js';
import { eventsView } from './events.js';

const routes = {
  flags: flagsView,
  flag: flagView,
  compare: compareView,
  parameters: parametersView,
  audit: auditView,
  stale: staleView,
  rollouts: rolloutsView,
  schedules: schedulesView,
  events: eventsView,
};

const main = document.getElementById('main');
let current = null; // {alive, leave: [fns]}
let first = true;

/** Parses '#/flag/a/b?x=1' into {view: 'flag', rest: 'a/b', params}. */
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  const slash = path.indexOf('/');
  const view = slash < 0 ? path : path.slice(0, slash);
  return { view: routes[view] ? view : 'flags', rest: slash < 0 ? '' : path.slice(slash + 1), params };
}

function leaveCurrent() {
  if (!current) return;
  current.alive = false;
  for (const fn of current.leave) try { fn(); } catch { /* ignore */ }
  current = null;
}

let early = null; // the overview's data, asked for alongside the session on the first load

async function route() {
  leaveCurrent();
  delete document.body.dataset.ready;
  const { view, rest, params } = parseHash();
  const ctx = {
    alive: true,
    leave: [],
    rest,
    params,
    isAlive() { return this.alive; },
    onLeave(fn) { this.leave.push(fn); },
    ready(name) { if (this.alive) document.body.dataset.ready = name; },
    early,
  };
  early = null;
  current = ctx;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const root = h('div', { class: 'view view-' + view });
  fill(main, root);
  try {
    await routes[view](root, ctx);
  } catch (e) {
    if (!ctx.alive) return;
    if (e && e.status === 401) return; // the sign-in form is showing
    for (const el of root.querySelectorAll('.loading')) el.remove();
    root.append(h('p', { class: 'error', role: 'alert' }, errorText(e)));
    ctx.ready(view);
  }
  if (!first && ctx.alive) {
    const h1 = root.querySelector('h1');
    if (h1 && !root.contains(document.activeElement)) h1.focus();
  }
  first = false;
}

// ---- header ----

function renderHeader() {
  const signedIn = session.principal !== '';
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  document.getElementById('whoami').textContent = session.auth
    ? session.name || session.principal
    : `${session.principal || 'anonymous'} (dev mode)`;
  document.getElementById('signout').hidden = !session.auth;
}

function setSession(s) {
  session.auth = !!s.auth;
  session.principal = s.principal || s.name || 'anonymous';
  session.name = s.name || '';
  session.admin = !!s.admin;
  session.csrf = s.csrf_token || '';
  clearPermissions();
  renderHeader();
}

// ---- sign-in ----

function showSignin(message) {
  leaveCurrent();
  Object.assign(session, { auth: false, principal: '', name: '', admin: false, csrf: '' });
  renderHeader();
  const err = h('p', { id: 'signin-error', class: 'error', role: 'alert' }, message || '');
  const [idLabel, idInput] = field('signin-key-id', 'Access key ID',
    { required: true, autocomplete: 'username', spellcheck: 'false', autocapitalize: 'off' });
  const [secLabel, secInput] = field('signin-secret', 'Secret access key',
    { type: 'password', required: true, autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { id: 'signin-form', class: 'signin', novalidate: true },
    title('Sign in to Vane'),
    h('p', { class: 'muted' }, 'Use an access key created with “vane keys create”.'),
    h('div', { class: 'row' }, idLabel, idInput),
    h('div', { class: 'row' }, secLabel, secInput),
    err,
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (!idInput.value.trim() || !secInput.value) {
      err.textContent = 'Enter the access key ID and the secret access key.';
      (idInput.value.trim() ? secInput : idInput).focus();
      return;
    }
    submit.disabled = true;
    try {
      const s = await api('POST', '/v1/session', { key_id: idInput.value.trim(), secret: secInput.value },
        { quiet401: true });
      setSession(s);
      route();
    } catch (e) {
      err.textContent = errorText(e);
      secInput.value = '';
      secInput.focus();
    } finally {
      submit.disabled = false;
    }
  });
  fill(main, h('div', { class: 'view view-signin' }, form));
  idInput.focus();
  document.body.dataset.ready = 'signin';
}

onUnauthorized(() => showSignin('Your session has ended. Sign in again.'));

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('DELETE', '/v1/session', undefined, { quiet401: true }); } catch { /* signed out anyway */ }
  showSignin('Signed out.');
});

document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => { if (session.principal) route(); });

async function start() {
  if (window.vaneEarlyFlags) {
    early = window.vaneEarlyFlags; // asked for by boot.js
    delete window.vaneEarlyFlags;
  } else if (parseHash().view === 'flags') {
    early = api('GET', '/v1/flags?path=/', undefined, { quiet401: true }).catch(() => null);
  }
  try {
    setSession(await api('GET', '/v1/session', undefined, { quiet401: true }));
  } catch (e) {
    if (e.status === 404) setSession({ auth: false, principal: 'anonymous', admin: true }); // server without sessions
    else return showSignin(e.status === 401 ? '' : errorText(e));
  }
  route();
}

start();
