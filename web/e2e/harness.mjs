// Shared set-up of the dashboard's browser tests and benchmark: a real
// `vane serve` (the binary in VANE_BIN), Debian's chromium driven by
// playwright-core, and small helpers around the native API.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const bin = process.env.VANE_BIN;
if (!bin) throw new Error('VANE_BIN must name a built vane binary (see .ci/browser-test.sh)');
export const outDir = process.env.VANE_E2E_OUT || join(process.cwd(), 'out');
mkdirSync(outDir, { recursive: true });

/** Starts `vane serve` on a free loopback port; resolves to {url, token, data, stop}. */
export async function startVane(...args) {
  const data = mkdtempSync(join(tmpdir(), 'vane-e2e-'));
  const proc = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('vane serve did not start:\n' + log)), 15000);
    const onData = (b) => {
      log += b;
      const m = /msg=listening url=(http:\S+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`vane serve exited with ${code}:\n${log}`)));
  });
  let token = '';
  try { token = readFileSync(join(data, 'admin.key'), 'utf8').trim(); } catch { /* --dev has none */ }
  return {
    url, token, data,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.exitCode !== null ? r() : proc.on('exit', r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Calls the native API with a bearer token; throws on an unexpected status. */
export async function call(server, method, path, body, { token = server.token, want } = {}) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (want !== undefined ? res.status !== want : res.status >= 300) {
    throw new Error(`${method} ${path}: ${res.status} ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

/** Puts a String parameter (a flag document is given as an object or a bare boolean). */
export function put(server, name, value, opts = {}) {
  const v = typeof value === 'string' ? value : JSON.stringify(value);
  return call(server, 'PUT', '/v1/parameters' + name, { type: opts.type || 'String', value: v, overwrite: true, ...opts.extra });
}

/** Runs the vane CLI against a server. */
export async function cli(server, ...args) {
  const { stdout } = await promisify(execFile)(bin, args, {
    env: { ...process.env, VANE_SERVER: server.url, VANE_TOKEN: server.token },
  });
  return stdout;
}

/** Launches Debian's chromium headless, as this machine allows it. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.VANE_TEST_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Splits an admin bearer token into the id and secret the sign-in form takes. */
export function credentials(token) {
  const i = token.indexOf('.');
  return { id: token.slice(0, i), secret: token.slice(i + 1) };
}
