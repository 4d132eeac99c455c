// Compare and copy between two paths; the parameter tree.
import {
  h, fill, api, p, allPages, can, announce, confirmChange, protectedEnv, errorText, fmtNum, timeEl,
  flagHref, isFlagName, title, field, table,
} from './lib.js';

/** '/myapp/prod/' → '/myapp/prod'; 'myapp' → '/myapp'; '' → ''. */
export function normPath(s) {
  s = (s || '').trim();
  if (!s) return '';
  if (!s.startsWith('/')) s = '/' + s;
  return s.length > 1 ? s.replace(/\/+$/, '') : s;
}
const under = (name, path) => path === '/' || name.startsWith(path + '/');
const rel = (name, path) => (path === '/' ? name.replace(/^\//, '') : name.slice(path.length + 1));
const join = (path, r) => (path === '/' ? '/' + r : path + '/' + r);
const hashParam = (v) => encodeURIComponent(v).replace(/%2F/gi, '/');

function valueCell(param) {
  if (!param) return h('span', { class: 'muted' }, '—');
  if (param.type === 'SecureString') return h('span', { class: 'muted hidden-value' }, '(hidden)');
  const v = param.value;
  return h('code', { class: 'val', title: v.length > 300 ? v : null }, v.length > 300 ? v.slice(0, 300) + '…' : v);
}

async function listAll(path) {
  const list = await allPages('/v1/parameters', { path, recursive: 'true', limit: '1000' }, 'parameters');
  return list.filter((x) => under(x.name.startsWith('/') ? x.name : '/' + x.name, path));
}

// ---- compare ----

export async function compareView(root, ctx) {
  const a = normPath(ctx.params.get('a'));
  const b = normPath(ctx.params.get('b'));
  const [la, ia] = field('cmp-a', 'Path A (source)', { value: a, placeholder: '/myapp/staging', spellcheck: 'false', required: true });
  const [lb, ib] = field('cmp-b', 'Path B (target)', { value: b, placeholder: '/myapp/prod', spellcheck: 'false', required: true });
  const formErr = h('p', { id: 'cmp-error', class: 'field-error', role: 'alert' });
  const form = h('form', { id: 'cmp-form', class: 'filters', novalidate: true },
    h('div', { class: 'row' }, la, ia), h('div', { class: 'row' }, lb, ib),
    h('div', { class: 'row end' }, h('button', { type: 'submit', id: 'cmp-run', class: 'primary' }, 'Compare')), formErr);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const na = normPath(ia.value);
    const nb = normPath(ib.value);
    if (!na || !nb) { formErr.textContent = 'Enter both paths.'; (na ? ib : ia).focus(); return; }
    const hash = `#/compare?a=${hashParam(na)}&b=${hashParam(nb)}`;
    if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = hash;
  });
  root.append(title('Compare and copy'), form);
  if (!a || !b) { ctx.ready('compare'); return; }

  const [listA, listB] = await Promise.all([listAll(a), listAll(b)]);
  if (!ctx.alive) return;
  const mapA = new Map(listA.map((x) => [rel(x.name, a), x]));
  const mapB = new Map(listB.map((x) => [rel(x.name, b), x]));
  const names = [...new Set([...mapA.keys(), ...mapB.keys()])].sort();

  const status = (r) => {
    const x = mapA.get(r);
    const y = mapB.get(r);
    if (!y) return 'only in A';
    if (!x) return 'only in B';
    if (x.type !== y.type) return 'differs';
    if (x.type === 'SecureString') return 'not compared';
    return x.value === y.value ? 'same' : 'differs';
  };
  const copyable = (r) => {
    const s = status(r);
    return (s === 'differs' || s === 'only in A') && mapA.get(r).type !== 'SecureString';
  };
  const targets = names.filter(copyable);
  const allowed = await can(targets.map((r) => ['ssm:PutParameter', join(b, r)]));
  const may = new Map(targets.map((r, i) => [r, allowed[i]]));
  const secretSkips = names.filter((r) => mapA.get(r) && mapA.get(r).type === 'SecureString' && status(r) !== 'same').length;

  async function copy(r) {
    const x = mapA.get(r);
    const body = { value: x.value, type: x.type, overwrite: true };
    if (x.description) body.description = x.description;
    if (x.tier === 'Advanced') body.tier = 'Advanced';
    const res = await api('PUT', p('/v1/parameters', join(b, r)), body);
    mapB.set(r, res);
  }
  async function confirmTargets(rs) {
    const envs = new Set();
    for (const r of rs) { const e = await protectedEnv(join(b, r)); if (e) envs.add(e); }
    if (!envs.size) return true;
    const what = rs.length === 1 ? rs[0].split('/').pop() : `${rs.length} parameters`;
    return confirmChange(`Change ${what} in protected environment ${[...envs].join(', ')}?`);
  }

  const rowFor = (r) => {
    const s = status(r);
    let action = '';
    if (copyable(r) && may.get(r)) {
      action = h('button', { type: 'button', class: 'copy', 'data-rel': r, 'aria-label': `Copy ${r} from A to B` }, 'Copy A → B');
    } else if (s !== 'same' && mapA.get(r) && mapA.get(r).type === 'SecureString') {
      action = h('span', { class: 'muted small' }, 'SecureString: not copied');
    }
    const href = isFlagName(r) ? flagHref(join(b, r)) : null;
    return h('tr', { 'data-rel': r, class: 'cmp-' + s.replace(/ /g, '-') },
      h('th', { scope: 'row' }, href && mapB.get(r) ? h('a', { href }, r) : r),
      h('td', null, valueCell(mapA.get(r))), h('td', null, valueCell(mapB.get(r))),
      h('td', { class: 'status' }, s), h('td', null, action));
  };
  const tbody = h('tbody', null, names.map(rowFor));
  const counts = () => {
    const c = {};
    for (const r of names) { const s = status(r); c[s] = (c[s] || 0) + 1; }
    return Object.entries(c).map(([k, v]) => `${fmtNum(v)} ${k}`).join(', ');
  };
  const summary = h('p', { id: 'cmp-summary', 'aria-live': 'polite' }, names.length ? counts() + '.' : 'Both paths are empty.');
  const pendingAll = () => names.filter((r) => copyable(r) && may.get(r));
  const errors = h('ul', { id: 'cmp-failures', class: 'error' });
  const copyAll = h('button', { type: 'button', id: 'cmp-copy-all', class: 'primary' }, 'Copy all differences A → B');
  copyAll.hidden = !pendingAll().length;

  tbody.addEventListener('click', async (ev) => {
    const btn = ev.target.closest('button.copy');
    if (!btn) return;
    const r = btn.dataset.rel;
    if (!(await confirmTargets([r]))) return;
    btn.disabled = true;
    try {
      await copy(r);
      const tr = rowFor(r);
      tbody.querySelector(`tr[data-rel="${CSS.escape(r)}"]`).replaceWith(tr);
      announce(`Copied ${r} to ${b}.`);
      summary.textContent = counts() + '.';
      copyAll.hidden = !pendingAll().length;
      const st = tr.querySelector('.status');
      st.tabIndex = -1;
      st.focus();
    } catch (e) {
      announce(`Could not copy ${r}: ${errorText(e)}`);
      btn.disabled = false;
    }
  });
  copyAll.addEventListener('click', async () => {
    const rs = pendingAll();
    if (!rs.length || !(await confirmTargets(rs))) return;
    copyAll.disabled = true;
    const failed = [];
    for (const r of rs) {
      try { await copy(r); } catch (e) { failed.push(`${r}: ${errorText(e)}`); }
      tbody.querySelector(`tr[data-rel="${CSS.escape(r)}"]`).replaceWith(rowFor(r));
    }
    copyAll.disabled = false;
    copyAll.hidden = !pendingAll().length;
    summary.textContent = counts() + '.' + (failed.length ? ` ${failed.length} could not be copied.` : '');
    fill(errors, ...failed.map((f) => h('li', null, f)));
    announce(`Copied ${rs.length - failed.length} of ${rs.length} parameters to ${b}.`);
  });
  root.append(summary,
    secretSkips ? h('p', { class: 'notice', id: 'cmp-secure-note' },
      `${secretSkips} SecureString parameter${secretSkips === 1 ? ' is' : 's are'} shown as (hidden) and never copied here; copy ${secretSkips === 1 ? 'it' : 'them'} with the CLI.`) : null,
    h('div', { class: 'buttons' }, copyAll), errors,
    h('div', { class: 'table-wrap' }, h('table', { id: 'cmp-table' },
      h('caption', null, `${a} (A) compared with ${b} (B)`),
      h('thead', null, h('tr', null, ['Name', 'A', 'B', 'Status', 'Copy'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  ctx.ready('compare');
}

// ---- parameter tree ----

export async function parametersView(root, ctx) {
  const path = normPath(ctx.params.get('path')) || '/';
  const [l, input] = field('params-path', 'Path', { value: path, spellcheck: 'false' });
  const form = h('form', { id: 'params-form', class: 'filters' }, h('div', { class: 'row' }, l, input),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/parameters?path=' + hashParam(normPath(input.value) || '/');
  });
  root.append(title('Parameters'), form);

  const [list, [mayDecrypt]] = await Promise.all([listAll(path), can([['kms:Decrypt', '*']])]);
  if (!ctx.alive) return;

  // Folders by path segment.
  const tree = { folders: new Map(), params: [], count: 0 };
  for (const x of list) {
    const segs = rel(x.name.startsWith('/') ? x.name : '/' + x.name, path).split('/');
    let node = tree;
    node.count++;
    for (const s of segs.slice(0, -1)) {
      if (!node.folders.has(s)) node.folders.set(s, { folders: new Map(), params: [], count: 0 });
      node = node.folders.get(s);
      node.count++;
    }
    node.params.push(x);
  }

  async function reveal(btn, x, cell) {
    btn.disabled = true;
    try {
      const res = await api('GET', p('/v1/parameters', x.name) + '?with_decryption=true&audit=true');
      fill(cell, h('code', { class: 'val revealed' }, res.value));
      announce(`Revealed ${x.name}. The read is recorded in the audit history.`);
      cell.setAttribute('tabindex', '-1');
      cell.focus();
    } catch (e) {
      announce(`Could not reveal ${x.name}: ${errorText(e)}`);
      btn.disabled = false;
    }
  }

  function details(x) {
    const tags = h('dd', { class: 'tags' }, 'Loading…');
    const d = h('details', { class: 'param-details' },
      h('summary', { 'aria-label': `Details of ${x.name}` }, 'Details'),
      h('dl', { class: 'kv' },
        h('dt', null, 'Description'), h('dd', null, x.description || '—'),
        h('dt', null, 'Changed'), h('dd', null, timeEl(x.last_modified), ` by ${x.last_modified_user || 'unknown'}`),
        h('dt', null, 'Labels'), h('dd', null, (x.labels || []).join(', ') || '—'),
        h('dt', null, 'Tier'), h('dd', null, x.tier || ''),
        h('dt', null, 'Tags'), tags));
    let loaded = false;
    d.addEventListener('toggle', async () => {
      if (!d.open || loaded) return;
      loaded = true;
      try {
        const res = await api('GET', p('/v1/tags', x.name));
        const entries = Object.entries(res.tags || {});
        fill(tags, ...(entries.length ? entries.map(([k, v]) => h('span', { class: 'badge label' }, `${k}=${v}`)) : ['none']));
      } catch (e) {
        fill(tags, errorText(e));
      }
    });
    return d;
  }

  function paramTable(params) {
    return h('div', { class: 'table-wrap' }, h('table', { class: 'params' },
      h('thead', null, h('tr', null, ['Name', 'Type', 'Version', 'Value'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Details')))),
      h('tbody', null, params.map((x) => {
        const leaf = x.name.split('/').pop();
        const cell = h('td', { class: 'value' }, valueCell(x));
        if (x.type === 'SecureString' && mayDecrypt) {
          const btn = h('button', { type: 'button', class: 'reveal small', 'aria-label': `Reveal ${x.name}` }, 'Reveal');
          btn.addEventListener('click', () => reveal(btn, x, cell));
          cell.append(' ', btn);
        }
        return h('tr', { 'data-name': x.name },
          h('th', { scope: 'row' }, isFlagName(x.name) ? h('a', { href: flagHref(x.name) }, leaf) : leaf),
          h('td', null, x.type), h('td', null, 'v' + x.version), cell, h('td', null, details(x)));
      }))));
  }

  function folder(name, node, prefix, depth) {
    const full = join(prefix, name);
    return h('details', { class: 'folder', open: depth < 2, 'data-path': full },
      h('summary', null, h('span', { class: 'folder-name' }, name + '/'), h('span', { class: 'muted' }, ` ${fmtNum(node.count)}`)),
      contents(node, full, depth + 1));
  }
  function contents(node, prefix, depth) {
    return h('div', { class: 'folder-body' },
      node.params.length > 0 && paramTable(node.params),
      [...node.folders.keys()].sort().map((k) => folder(k, node.folders.get(k), prefix, depth)));
  }

  root.append(list.length
    ? h('div', { id: 'param-tree' }, h('p', { class: 'muted' }, `${fmtNum(list.length)} parameter${list.length === 1 ? '' : 's'} under ${path}.`),
      contents(tree, path, 0))
    : h('p', { class: 'empty' }, `No parameters under ${path}.`));
  ctx.ready('parameters');
}
