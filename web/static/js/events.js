// Event rules: the rules, each rule's deliveries and dead letters, test
// sends and redelivery. Every route needs vane:Admin.
import { h, fill, api, session, announce, errorText, fmtTime, title, table } from './lib.js';

const STATES = ['', 'pending', 'delivered', 'dead'];

export async function eventsView(root, ctx) {
  root.append(title('Event rules'));
  if (!session.admin) {
    root.append(h('p', { class: 'notice', id: 'events-denied' }, 'Your access key may not manage event rules (it needs vane:Admin).'));
    ctx.ready('events');
    return;
  }
  const res = await api('GET', '/v1/event-rules');
  if (!ctx.alive) return;
  const rules = res.rules || [];
  const selected = rules.find((r) => r.id === ctx.params.get('rule') || r.name === ctx.params.get('rule'));
  root.append(h('p', { class: 'muted' }, 'Rules send the changes under a path to a webhook, Slack or the log; create them with ',
    h('code', null, 'vane events rules create'), ' (see doc/events.md).'));
  root.append(rules.length ? table('rules-table', 'Event rules', ['Name', 'Path', 'Operations', 'Target', 'State', ''],
    rules.map((r) => h('tr', { 'data-rule': r.id, class: r === selected ? 'selected' : null },
      h('td', null, h('a', { href: `#/events?rule=${encodeURIComponent(r.id)}` }, r.name)),
      h('td', null, h('code', null, r.path)),
      h('td', null, r.operations && r.operations.length ? r.operations.join(', ') : 'every change'),
      h('td', null, r.target, r.url ? h('span', { class: 'muted small' }, ' ' + r.url) : null),
      h('td', null, r.disabled ? 'off' : 'on'),
      h('td', null, testButton(r))))) : h('p', { class: 'empty' }, 'No event rules yet.'));
  if (selected) await deliveries(root, ctx, selected);
  ctx.ready('events');
}

function testButton(r) {
  const b = h('button', { type: 'button', class: 'small', 'aria-label': `Send a test event to rule ${r.name}` }, 'Send test');
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const res = await api('POST', `/v1/event-rules/${encodeURIComponent(r.id)}/test`);
      announce(res.delivered ? `Test event delivered to ${r.name} (status ${res.attempt.status}).`
        : `Test event to ${r.name} not delivered: ${res.attempt.error}`);
    } catch (e) {
      announce(`Test of ${r.name}: ${errorText(e)}`);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

async function deliveries(root, ctx, rule) {
  const state = ctx.params.get('state') || '';
  const sel = h('select', { id: 'deliveries-state' }, STATES.map((s) => h('option', { value: s }, s || 'All states')));
  sel.value = state;
  sel.addEventListener('change', () => {
    location.hash = `#/events?rule=${encodeURIComponent(rule.id)}` + (sel.value ? '&state=' + sel.value : '');
  });
  const q = new URLSearchParams({ limit: '200' });
  if (state) q.set('state', state);
  const res = await api('GET', `/v1/event-rules/${encodeURIComponent(rule.id)}/deliveries?${q}`);
  if (!ctx.alive) return;
  const list = res.deliveries || [];
  const wrap = h('div', { id: 'deliveries-results' });
  function draw() {
    fill(wrap, list.length ? table('deliveries-table', `Deliveries of ${rule.name}, newest first`,
      ['Event', 'Name', 'Operation', 'State', 'Attempts', 'Last', 'Created', ''],
      list.map((d) => {
        let again = '';
        if (d.state !== 'pending') {
          again = h('button', { type: 'button', class: 'small', 'aria-label': `Redeliver event ${d.id}` }, 'Redeliver');
          again.addEventListener('click', async () => {
            again.disabled = true;
            try {
              Object.assign(d, await api('POST', `/v1/event-rules/${encodeURIComponent(rule.id)}/deliveries/${encodeURIComponent(d.id)}/redeliver`));
              announce(`Event ${d.id} queued again.`);
              draw();
            } catch (e) {
              announce(`Redeliver ${d.id}: ${errorText(e)}`);
              again.disabled = false;
            }
          });
        }
        return h('tr', { 'data-event': d.id },
          h('td', null, h('code', null, d.id)), h('td', null, d.name), h('td', null, d.operation),
          h('td', null, h('span', { class: 'rstate rs-' + d.state }, d.state)), h('td', null, String(d.attempts)),
          h('td', { class: d.last_error ? 'bad' : null }, d.last_error || (d.last_status ? String(d.last_status) : '')),
          h('td', null, fmtTime(d.created)), h('td', null, again));
      })) : h('p', { class: 'empty' }, state ? `No ${state} deliveries.` : 'No deliveries yet.'));
  }
  draw();
  root.append(h('h2', { id: 'deliveries-h' }, `Deliveries of ${rule.name}`),
    h('div', { class: 'filters' }, h('div', { class: 'row' }, h('label', { for: 'deliveries-state' }, 'State'), sel)), wrap);
}
