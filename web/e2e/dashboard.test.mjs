// Browser tests of the dashboard: Debian's chromium, driven by
// playwright-core, against a real `vane serve` with access control on
// (and one with --dev for the forgery test). Run by .ci/browser-test.sh,
// which builds vane and installs both; screenshots go to VANE_E2E_OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { startVane, call, put, cli, launch, credentials, outDir } from './harness.mjs';

let vane, dev, browser, admin, billing;
const apps = ['shop', 'billing'];
const envs = ['dev', 'staging', 'prod'];
const today = new Date();
const dayBefore = (n) => new Date(today.getTime() - n * 86400e3);

before(async () => {
  vane = await startVane();
  dev = await startVane('--dev');
  for (const app of apps) {
    for (const env of envs) {
      await put(vane, `/${app}/${env}/features/new-checkout`, { enabled: env !== 'prod', rollout_percentage: env === 'staging' ? 50 : 100, owner: `team-${app}`, description: `Checkout v2 for ${app}` });
      await put(vane, `/${app}/${env}/features/dark-mode`, env === 'dev');
    }
  }
  await put(vane, '/shop/prod/features/old-banner', { enabled: false, owner: 'team-web', description: '<img src=x id=pwned> banner & "quotes"' });
  await put(vane, '/shop/prod/tuning/cache_ttl', '30');
  // Usage as SDKs report it: two variants over three days, and no row for
  // old-banner, which is never evaluated.
  const rows = [];
  for (const env of envs) {
    for (const app of apps) {
      for (const name of ['new-checkout', 'dark-mode']) rows.push({ name: `/${app}/${env}/features/${name}`, variant: 'on', count: 5, last: today.toISOString() });
    }
  }
  for (const [d, on, off] of [[2, 40, 10], [1, 30, 25], [0, 12, 3]]) {
    rows.push({ name: '/shop/staging/features/new-checkout', variant: 'on', count: on, last: dayBefore(d).toISOString() });
    rows.push({ name: '/shop/staging/features/new-checkout', variant: 'off', count: off, last: dayBefore(d).toISOString() });
  }
  await call(vane, 'POST', '/v1/usage', { usage: rows });
  const k = await call(vane, 'POST', '/v1/access-keys', {
    name: 'team-billing',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameter*', 'ssm:DescribeParameters', 'vane:Watch', 'vane:Evaluate'], Resource: '/billing/*' }] },
  });
  billing = credentials(k.token);
  admin = credentials(vane.token);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await vane?.stop();
  await dev?.stop();
});

/** A new browser context (its own cookies) on a page signed in as who. */
async function signedIn(who, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => { if (m.type() === 'error' && !/401|403|status of 4/.test(m.text())) errors.push(new Error(m.text())); });
  page.on('dialog', (d) => { errors.push(new Error('unexpected dialog: ' + d.message())); d.dismiss(); });
  await page.goto(vane.url + '/');
  await page.waitForSelector('body[data-ready="signin"]');
  await page.getByLabel('Access key ID').fill(who.id);
  await page.getByLabel('Secret access key').fill(who.secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('body[data-ready="flags"]');
  return { context, page, errors };
}

/** The cell of a flag in an environment on the overview. */
const cell = (page, name) => page.locator(`[data-flag="${name}"]`);

test('sign in, and the overview shows two applications in three environments', async () => {
  const { context, page, errors } = await signedIn(admin);
  const url = page.url();
  assert.ok(url.startsWith(vane.url + '/ui/'), `the root redirects to /ui/, got ${url}`);
  const headers = await page.locator('thead th').allTextContents();
  for (const env of envs) assert.ok(headers.some((h) => h.includes(env)), `column ${env} in ${headers}`);
  assert.ok(headers.some((h) => /prod/.test(h) && /protected/i.test(h)), `prod is marked protected: ${headers}`);
  for (const app of apps) {
    for (const env of envs) await cell(page, `/${app}/${env}/features/new-checkout`).waitFor();
  }
  assert.match(await cell(page, '/shop/staging/features/new-checkout').innerText(), /50%/);
  assert.match(await cell(page, '/shop/prod/features/new-checkout').innerText(), /off/);
  assert.match(await cell(page, '/shop/prod/features/old-banner').innerText(), /stale/i);
  // The tunable is not a flag.
  assert.equal(await page.locator('[data-flag="/shop/prod/tuning/cache_ttl"]').count(), 0);
  // User text is text: the description's markup did not become an element.
  assert.equal(await page.locator('#pwned').count(), 0);
  await page.screenshot({ path: join(outDir, 'overview.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('toggle a flag, confirming in a protected environment, and see it through the API', async () => {
  const { context, page, errors } = await signedIn(admin);
  // staging is not protected: no confirmation.
  await cell(page, '/billing/staging/features/dark-mode').getByRole('button').click();
  await waitFor(async () => (await call(vane, 'GET', '/v1/parameters/billing/staging/features/dark-mode')).value === 'true');
  // prod is: the dialog names the environment and the flag.
  await cell(page, '/billing/prod/features/new-checkout').getByRole('button').click();
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  const text = await dialog.innerText();
  assert.match(text, /prod/);
  assert.match(text, /new-checkout/);
  await page.screenshot({ path: join(outDir, 'confirm-protected.png') });
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await waitFor(async () => JSON.parse((await call(vane, 'GET', '/v1/parameters/billing/prod/features/new-checkout')).value).enabled === true);
  const audit = await call(vane, 'GET', '/v1/audit?path=/billing/prod/features/new-checkout');
  assert.equal(audit.entries.at(-1).principal, 'admin', 'the change is audited as the signed-in key');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an invalid edit shows the server\'s message at the field, and history shows a diff', async () => {
  const { context, page, errors } = await signedIn(admin);
  const name = '/shop/staging/features/new-checkout';
  await page.goto(vane.url + '/ui/#/flag' + name);
  await page.waitForSelector('body[data-ready="flag"]');
  await page.locator('#f-rollout').fill('150');
  await page.getByRole('button', { name: /^Save/ }).first().click();
  const err = page.locator('#f-rollout-error');
  await err.filter({ hasText: /150 is not from 0 to 100/ }).waitFor();
  assert.equal(await page.locator('#f-rollout').getAttribute('aria-invalid'), 'true');
  assert.equal((await call(vane, 'GET', '/v1/parameters' + name)).version, 1, 'nothing was written');
  await page.screenshot({ path: join(outDir, 'invalid-edit.png'), fullPage: true });

  await page.locator('#f-rollout').fill('75');
  await page.getByRole('button', { name: /^Save/ }).first().click();
  await waitFor(async () => (await call(vane, 'GET', '/v1/parameters' + name)).version === 2);
  await page.waitForSelector('body[data-ready="flag"]');
  await page.locator('#diff .del').first().waitFor();
  const diff = await page.locator('#diff').innerText();
  assert.match(diff, /-.*50/);
  assert.match(diff, /\+.*75/);

  // The usage chart: one bar per day, stacked by variant.
  const bars = page.locator('#usage-chart rect');
  await bars.first().waitFor();
  assert.ok(await bars.count() >= 6, `bars for 3 days × 2 variants, got ${await bars.count()}`);
  assert.match(await page.locator('#usage-chart').getAttribute('aria-label'), /\w/);
  await page.screenshot({ path: join(outDir, 'flag-detail.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a change made with the CLI shows on the open page within a second', async () => {
  const { context, page, errors } = await signedIn(admin);
  const name = '/shop/dev/features/dark-mode';
  assert.equal(await cell(page, name).locator('.state').innerText(), 'on');
  const started = Date.now();
  await cli(vane, 'put', name, 'false', '--overwrite');
  const cliDone = Date.now();
  await page.waitForFunction((n) => document.querySelector(`[data-flag="${n}"] .state`)?.textContent.trim() === 'off', name, { timeout: 1000 });
  console.log(`# CLI change shown on the page ${Date.now() - cliDone} ms after the CLI returned (${cliDone - started} ms in the CLI)`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a scoped key sees only its subtree, and no buttons it may not use', async () => {
  const { context, page, errors } = await signedIn(billing);
  await cell(page, '/billing/prod/features/new-checkout').waitFor();
  const names = await page.locator('[data-flag]').evaluateAll((els) => els.map((e) => e.dataset.flag));
  assert.ok(names.length > 0 && names.every((n) => n.startsWith('/billing/')), `only /billing/ flags: ${names}`);
  assert.equal(await page.locator('[data-flag] button').count(), 0, 'a read-only key gets no toggle');
  await page.goto(vane.url + '/ui/#/flag/billing/prod/features/new-checkout');
  await page.waitForSelector('body[data-ready="flag"]');
  assert.equal(await page.getByRole('button', { name: /^Save/ }).count(), 0, 'no save button without ssm:PutParameter');
  await page.screenshot({ path: join(outDir, 'scoped-key.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a forged cross-site request is refused', async () => {
  // A page of another site (localhost, not 127.0.0.1) that makes the
  // browser send state-changing requests to Vane: a form post and a
  // no-cors fetch, as a real attack would.
  // The body is a valid scheduled change (the server does not insist on
  // a JSON content type), so only the forgery checks stand in its way; the
  // form's text/plain encoding puts its "=" inside the value.
  const forged = { name: '/shop/prod/tuning/forged', action: 'put', at: '2031-01-01T00:00:00Z', value: 'a=b' };
  const attack = (target) => `<!doctype html><title>evil</title>
<form id=f method=POST action="${target}/v1/schedules" enctype="text/plain">
<input name='{"name":"/shop/prod/tuning/forged","action":"put","at":"2031-01-01T00:00:00Z","value":"a' value='b"}'></form>
<script>fetch("${target}/v1/schedules", {method: "POST", mode: "no-cors", credentials: "include", body: ${JSON.stringify(JSON.stringify(forged))}})
  .finally(() => document.getElementById("f").submit());</script>`;
  let target = '';
  const evil = createServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end(attack(target)); });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  const evilURL = `http://localhost:${evil.address().port}/`;
  try {
    for (const server of [vane, dev]) {
      target = server.url;
      // Signed in to Vane in the same browser, as a victim would be.
      const { context, page } = server === vane ? await signedIn(admin) : await (async () => {
        const context = await browser.newContext();
        return { context, page: await context.newPage() };
      })();
      const submitted = page.waitForRequest((r) => r.url().endsWith('/v1/schedules') && r.resourceType() === 'document');
      await page.goto(evilURL);
      await submitted;
      await page.waitForLoadState('load');
      const schedules = await call(server, 'GET', '/v1/schedules');
      assert.equal((schedules.schedules || []).length, 0, `no schedule was created on ${server === dev ? '--dev' : 'the signed-in server'}`);
      await context.close();
    }
    // The same request with a credential of its own is a valid one.
    const made = await call(vane, 'POST', '/v1/schedules', forged);
    assert.equal(made.value, 'a=b');
    await call(vane, 'POST', `/v1/schedules/${made.id}/cancel`);
    const refused = (await call(vane, 'GET', '/v1/audit?action=vane:Authenticate')).entries;
    assert.ok(refused.some((e) => e.name === '/v1/schedules'), 'the forged request is in the audit history as refused');
    assert.match(dev.log(), /cross_site|cross-site/);
  } finally {
    evil.close();
  }
});

test('the retirement report lists a never-evaluated flag', async () => {
  const { context, page, errors } = await signedIn(admin);
  await page.goto(vane.url + '/ui/#/stale');
  await page.waitForSelector('body[data-ready="stale"]');
  const row = page.getByRole('row').filter({ hasText: 'old-banner' });
  await row.waitFor();
  assert.match(await row.innerText(), /never evaluated/);
  assert.match(await row.innerText(), /team-web/);
  await page.screenshot({ path: join(outDir, 'retirement.png'), fullPage: true });
  const fromCLI = await cli(vane, 'flags', 'stale', '/shop');
  assert.match(fromCLI, /old-banner.*never evaluated/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('compare two environments and copy the differences as audited writes', async () => {
  const { context, page, errors } = await signedIn(admin);
  await put(vane, '/shop/staging/tuning/cache_ttl', '60');
  await page.goto(vane.url + '/ui/#/compare?a=/shop/staging&b=/shop/prod');
  await page.waitForSelector('body[data-ready="compare"]');
  const row = page.locator('#cmp-table tr[data-rel="tuning/cache_ttl"]');
  assert.match(await row.innerText(), /60[\s\S]*30/);
  assert.match(await row.locator('.status').innerText(), /differs/);
  await row.getByRole('button', { name: /Copy/ }).click();
  // prod is protected: the copy asks first, naming it.
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /prod/);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await waitFor(async () => (await call(vane, 'GET', '/v1/parameters/shop/prod/tuning/cache_ttl')).value === '60');
  const audit = await call(vane, 'GET', '/v1/audit?path=/shop/prod/tuning/cache_ttl');
  assert.equal(audit.entries.at(-1).action, 'ssm:PutParameter');
  assert.equal(audit.entries.at(-1).principal, 'admin');
  await page.screenshot({ path: join(outDir, 'compare.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a SecureString stays hidden until revealed, and the reveal is audited', async () => {
  await call(vane, 'PUT', '/v1/parameters/shop/prod/db/password', { type: 'SecureString', value: 'hunter2-s3cret' });
  const { context, page, errors } = await signedIn(admin);
  await page.goto(vane.url + '/ui/#/parameters?path=/shop/prod');
  await page.waitForSelector('body[data-ready="parameters"]');
  const row = page.locator('tr[data-name="/shop/prod/db/password"]');
  await row.waitFor({ state: 'attached' });
  assert.doesNotMatch(await page.content(), /hunter2/, 'the value is not in the page before Reveal');
  await row.getByRole('button', { name: /Reveal/ }).click();
  await row.getByText('hunter2-s3cret').waitFor();
  const audit = await call(vane, 'GET', '/v1/audit?path=/shop/prod/db/password');
  assert.ok(audit.entries.some((e) => e.action === 'ssm:GetParameter' && e.principal === 'admin' && /decryption/.test(e.detail)),
    'the reveal is in the audit history');
  assert.ok(!JSON.stringify(audit).includes('hunter2'), 'the audit history never holds the value');
  // The audit page finds it, filtered by path and action.
  await page.goto(vane.url + '/ui/#/audit');
  await page.waitForSelector('body[data-ready="audit"]');
  await page.locator('#audit-path').fill('/shop/prod/db/password');
  await page.locator('#audit-action').fill('ssm:GetParameter');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#audit-table').getByText('read with decryption').first().waitFor();
  assert.deepEqual(errors, []);
  await context.close();
  // The read-only key gets no Reveal button.
  const scoped = await signedIn(billing);
  await put(vane, '/billing/prod/api-key', 'x', { type: 'SecureString' });
  await scoped.page.goto(vane.url + '/ui/#/parameters?path=/billing');
  await scoped.page.waitForSelector('body[data-ready="parameters"]');
  assert.equal(await scoped.page.locator('button.reveal').count(), 0);
  await scoped.context.close();
});

test('a rollout in progress shows on its flag and on the rollouts page, and can be paused there', async () => {
  const name = '/billing/dev/features/dark-mode';
  await put(vane, name, { enabled: true, rollout_percentage: 0 });
  const ro = await call(vane, 'POST', '/v1/rollouts', { name, strategy: 'linear', step: 25, every: '1h', bake: '0s' });
  const sc = await call(vane, 'POST', '/v1/schedules', { name: '/billing/dev/tuning/pool', action: 'put', value: '40', at: '2031-06-01T00:00:00Z' });
  const { context, page, errors } = await signedIn(admin);
  await page.goto(vane.url + '/ui/#/flag' + name);
  await page.waitForSelector('body[data-ready="flag"]');
  const sec = page.locator(`#rollout-section [data-rollout="${ro.id}"]`);
  await sec.waitFor();
  assert.equal(await sec.locator('.rollout-state').innerText(), 'running');
  assert.equal(await sec.locator('progress').count(), 1);
  await page.goto(vane.url + '/ui/#/rollouts');
  await page.waitForSelector('body[data-ready="rollouts"]');
  const row = page.locator(`#rollouts-table tr[data-rollout="${ro.id}"]`);
  await row.getByRole('button', { name: /^Pause/ }).click();
  await waitFor(async () => (await call(vane, 'GET', `/v1/rollouts/${ro.id}`)).state === 'paused');
  await page.screenshot({ path: join(outDir, 'rollouts.png'), fullPage: true });
  await page.goto(vane.url + '/ui/#/schedules');
  await page.waitForSelector('body[data-ready="schedules"]');
  await page.locator(`#schedules-table tr[data-schedule="${sc.id}"]`).getByRole('button', { name: /^Cancel/ }).click();
  await waitFor(async () => (await call(vane, 'GET', `/v1/schedules/${sc.id}`)).state === 'cancelled');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the events page lists rules and their deliveries, and sends a test event', async () => {
  const got = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push(JSON.parse(body)); res.end(); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const rule = await call(vane, 'POST', '/v1/event-rules', { name: 'shop-flags', path: '/shop/*/features/*', target: 'webhook',
      url: `http://127.0.0.1:${receiver.address().port}/hook` });
    await put(vane, '/shop/dev/features/dark-mode', true);
    await waitFor(async () => got.some((e) => e.detail.name === '/shop/dev/features/dark-mode'));
    const { context, page, errors } = await signedIn(admin);
    await page.goto(vane.url + '/ui/#/events?rule=' + rule.id);
    await page.waitForSelector('body[data-ready="events"]');
    assert.match(await page.locator(`#rules-table tr[data-rule="${rule.id}"]`).innerText(), /shop-flags/);
    const row = page.locator('#deliveries-table tbody tr').first();
    assert.match(await row.innerText(), /dark-mode[\s\S]*delivered/);
    await page.getByRole('button', { name: 'Send a test event to rule shop-flags' }).click();
    await page.locator('#status').filter({ hasText: /Test event delivered/ }).waitFor();
    assert.ok(got.some((e) => e.detail.operation === 'Test'), 'the receiver got the test event');
    await page.screenshot({ path: join(outDir, 'events.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
    await call(vane, 'DELETE', '/v1/event-rules/' + rule.id);
  } finally {
    receiver.close();
  }
});

test('sign-out ends the session on the server', async () => {
  const { context, page, errors } = await signedIn(admin);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('body[data-ready="signin"]');
  const cookies = await context.cookies();
  assert.equal(cookies.filter((c) => c.name === 'vane_session').length, 0, 'the cookie is cleared');
  assert.deepEqual(errors, []);
  await context.close();
});

test('every control is labelled, and the overview works from the keyboard', async () => {
  const { context, page, errors } = await signedIn(admin);
  // Each view: no form control without an accessible name.
  for (const [hash, ready] of [['#/flags', 'flags'], ['#/flag/shop/prod/features/new-checkout', 'flag'], ['#/compare?a=/shop/dev&b=/shop/prod', 'compare'],
    ['#/parameters?path=/shop', 'parameters'], ['#/audit', 'audit'], ['#/stale', 'stale'], ['#/rollouts', 'rollouts'], ['#/schedules', 'schedules'], ['#/events', 'events']]) {
    await page.goto(vane.url + '/ui/' + hash);
    await page.waitForSelector(`body[data-ready="${ready}"]`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => !el.closest('[hidden], dialog:not([open])') && el.type !== 'hidden')
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, [], `unlabelled controls on ${hash}`);
  }
  // Text contrast on the overview: at least 4.5:1 (WCAG AA) for every
  // kind of text in a cell, the header and the counts.
  await page.goto(vane.url + '/ui/#/flags');
  await page.waitForSelector('body[data-ready="flags"]');
  const low = await page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
    const bg = (el) => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = [];
    for (const el of document.querySelectorAll('.state, .seen, .badge, .toggle, nav a, thead th, caption, .count dt, .count dd, #filter-summary')) {
      const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) out.push(`${el.className || el.tagName} "${el.textContent.trim().slice(0, 20)}": ${ratio.toFixed(2)}`);
    }
    return [...new Set(out)];
  });
  assert.deepEqual(low, [], 'text with a contrast under 4.5:1');
  // Keyboard only: filter with the search box, tab to the first toggle,
  // and the focused element is visibly outlined.
  await page.goto(vane.url + '/ui/#/flags');
  await page.waitForSelector('body[data-ready="flags"]');
  await page.locator('#filter-text').focus();
  await page.keyboard.type('old-banner');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-key]').length === 1);
  let tabs = 0;
  while (!(await page.evaluate(() => document.activeElement?.classList.contains('toggle'))) && tabs++ < 30) await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    const st = getComputedStyle(el);
    return { name: el.closest('[data-flag]')?.dataset.flag, outline: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0 };
  });
  assert.equal(focused.name, '/shop/prod/features/old-banner', 'Tab reaches the toggle of the one flag left');
  assert.ok(focused.outline, 'the focused toggle has a visible outline');
  await page.keyboard.press('Enter');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(JSON.parse((await call(vane, 'GET', '/v1/parameters/shop/prod/features/old-banner')).value).enabled, false, 'Escape cancels the change');
  assert.deepEqual(errors, []);
  await context.close();
});

test('readable on a phone', async () => {
  const { context, page, errors } = await signedIn(admin, { width: 390, height: 844 });
  await cell(page, '/shop/prod/features/new-checkout').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page itself does not scroll sideways on a phone (the table scrolls in its box): ${overflow}px`);
  await page.screenshot({ path: join(outDir, 'phone.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a toggle on a path that needs approval becomes a change request, and says so', async () => {
  const k = await call(vane, 'POST', '/v1/access-keys', {
    name: 'shop-dev',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameter*', 'ssm:DescribeParameters', 'ssm:PutParameter', 'vane:Watch', 'vane:ProposeChange'], Resource: '/shop/*' }] },
  });
  await call(vane, 'PUT', '/v1/parameters/vane/settings/approval-paths', { type: 'StringList', value: '/shop/prod' });
  try {
    const before = await call(vane, 'GET', '/v1/parameters/shop/prod/features/dark-mode');
    const { context, page, errors } = await signedIn(credentials(k.token));
    await cell(page, '/shop/prod/features/dark-mode').getByRole('button').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(async () => /needs approval.*change request cr-[0-9a-f]{16}/.test(await page.locator('#status').innerText()));
    await page.screenshot({ path: join(outDir, 'change-request.png') });
    const after = await call(vane, 'GET', '/v1/parameters/shop/prod/features/dark-mode');
    assert.equal(after.version, before.version, 'nothing is written before approval');
    const list = await call(vane, 'GET', '/v1/change-requests?state=pending&path=/shop/prod');
    assert.equal(list.change_requests.length, 1);
    assert.equal(list.change_requests[0].author, 'shop-dev');
    assert.equal(list.change_requests[0].items[0].value, 'true');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await call(vane, 'DELETE', '/v1/parameters/vane/settings/approval-paths');
  }
});

async function waitFor(check, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + check);
    await new Promise((r) => setTimeout(r, 50));
  }
}
