// The dashboard overview benchmark (BENCHMARKS.md): 1,000 flags in 5
// environments (5,000 cells) rendered by Debian's chromium, against a
// baseline in the same run: the same rendered page saved as static HTML
// (scripts removed) and served by a bare Node.js file server. Reports the
// time from navigation start to the overview being on screen, and the
// bytes transferred, for both.
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { startVane, call, launch, credentials } from './harness.mjs';

const FLAGS = Number(process.env.BENCH_FLAGS || 1000);
const ENVS = ['dev', 'qa', 'staging', 'canary', 'prod'];
const RUNS = Number(process.env.BENCH_RUNS || 15);

const vane = await startVane();
const browser = await launch();
try {
  // 1,000 flags: 50 applications × 20 flags, each in 5 environments,
  // with a realistic mix of documents.
  const started = Date.now();
  const puts = [];
  for (let i = 0; i < FLAGS; i++) {
    const app = `app${String(i % 50).padStart(2, '0')}`;
    for (const env of ENVS) {
      const doc = i % 4 === 0 ? (i % 8 === 0) : { enabled: i % 3 !== 0, rollout_percentage: (i * 7) % 101, owner: `team-${i % 9}`, description: `Flag ${i} of ${app}` };
      puts.push([`/${app}/${env}/features/flag-${i}`, JSON.stringify(doc)]);
    }
  }
  for (let i = 0; i < puts.length; i += 16) {
    await Promise.all(puts.slice(i, i + 16).map(([name, value]) => call(vane, 'PUT', '/v1/parameters' + name, { type: 'String', value })));
  }
  console.log(`seeded ${puts.length} flags in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { id, secret } = credentials(vane.token);
  await page.goto(vane.url + '/ui/');
  await page.waitForSelector('body[data-ready="signin"]');
  await page.getByLabel('Access key ID').fill(id);
  await page.getByLabel('Secret access key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('body[data-ready="flags"]');
  const cells = await page.locator('[data-flag]').count();
  if (cells !== FLAGS * ENVS.length) throw new Error(`the overview shows ${cells} cells, want ${FLAGS * ENVS.length}`);

  // On every page: note when all the cells are first on screen. A
  // requestAnimationFrame callback runs before its frame is painted, so
  // the callback of the frame after the one that first had every cell
  // runs after those cells were painted.
  await page.addInitScript((want) => {
    const tick = () => {
      const n = document.querySelectorAll('[data-flag]').length;
      if (n > 0 && !window.__first) requestAnimationFrame(() => { window.__first = performance.now(); });
      if (n >= want) requestAnimationFrame(() => { window.__painted = performance.now(); });
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }, FLAGS * ENVS.length);
  const measure = async (url, ready) => {
    const times = [], first = [], painted = [], bytes = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto('about:blank');
      await page.goto(url);
      await page.waitForFunction(ready);
      await page.waitForFunction(() => window.__painted > 0);
      const r = await page.evaluate((ready) => {
        const nav = performance.getEntriesByType('navigation')[0];
        const mark = performance.getEntriesByName('vane:overview-complete')[0];
        const t = ready === 'mark' ? mark.startTime : nav.loadEventEnd;
        const transfer = [nav, ...performance.getEntriesByType('resource')].reduce((n, e) => n + (e.transferSize || 0), 0);
        return { t, first: window.__first, painted: window.__painted, transfer };
      }, ready === overviewRendered ? 'mark' : 'load');
      times.push(r.t);
      painted.push(r.painted);
      first.push(r.first);
      bytes.push(r.transfer);
    }
    const stats = (xs) => {
      xs.sort((a, b) => a - b);
      return { median: xs[xs.length >> 1], p90: xs[Math.floor(xs.length * 0.9)], min: xs[0] };
    };
    return { ...stats(times), first: stats(first), painted: stats(painted), bytes: Math.max(...bytes) };
  };
  // The browser's cache is on, as for a user coming back: files
  // revalidate (304) and the data is fetched fresh each time.
  // Functions, not strings: the page's Content-Security-Policy forbids
  // evaluating strings.
  const overviewRendered = () => performance.getEntriesByName('vane:overview-complete').length > 0;
  const loaded = () => document.readyState === 'complete' && performance.getEntriesByType('navigation')[0].loadEventEnd > 0;
  const dash = await measure(vane.url + '/ui/#/flags', overviewRendered);

  // Baseline: the rendered page as a static file.
  let html = await page.content();
  html = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
  const css = await (await fetch(vane.url + '/ui/app.css')).text();
  const files = { '/ui/static.html': ['text/html', html], '/ui/app.css': ['text/css', css] };
  const baseline = createServer((req, res) => {
    const f = files[req.url.split('?')[0]];
    if (!f) { res.statusCode = 404; return res.end(); }
    let body = Buffer.from(f[1]);
    res.setHeader('Content-Type', f[0]);
    if (/gzip/.test(req.headers['accept-encoding'] || '')) { body = gzipSync(body); res.setHeader('Content-Encoding', 'gzip'); }
    res.end(body);
  });
  await new Promise((r) => baseline.listen(0, '127.0.0.1', r));
  const staticRun = await measure(`http://127.0.0.1:${baseline.address().port}/ui/static.html`, loaded);
  baseline.close();

  const kb = (n) => (n / 1024).toFixed(0) + ' KB';
  console.log(`overview, ${FLAGS} flags × ${ENVS.length} environments (${cells} cells), ${RUNS} loads each, chromium ${browser.version()}`);
  const ms = (x) => `median ${x.median.toFixed(0)} ms, p90 ${x.p90.toFixed(0)} ms, min ${x.min.toFixed(0)} ms`;
  console.log(`  dashboard  : first screen on screen ${ms(dash.first)}`);
  console.log(`               all ${cells} cells in the page ${ms(dash.painted)}; transferred ${kb(dash.bytes)}`);
  console.log(`  static HTML: first screen on screen ${ms(staticRun.first)}`);
  console.log(`               all ${cells} cells in the page ${ms(staticRun.painted)}; transferred ${kb(staticRun.bytes)} (${kb(html.length)} uncompressed)`);
  console.log(`  dashboard / static HTML (medians): first screen ${(dash.first.median / staticRun.first.median).toFixed(2)}, all cells ${(dash.painted.median / staticRun.painted.median).toFixed(2)}`);
  await context.close();
} finally {
  await browser.close();
  await vane.stop();
}
