// Drives Vane's OFREP endpoints with the real @openfeature/ofrep-provider
// under @openfeature/server-sdk, and checks each answer against Vane's
// native POST /v1/evaluate for the same flag and context: the two must
// agree exactly. Usage: VANE_TOKEN=ID.SECRET node test.mjs http://127.0.0.1:PORT
// (the server runs with --ofrep-base /ofrep/prod/features/).
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const base = process.argv[2];
const auth = process.env.VANE_TOKEN ? { Authorization: `Bearer ${process.env.VANE_TOKEN}` } : {};
if (!base) {
  console.error('usage: node test.mjs SERVER_URL');
  process.exit(2);
}
let failed = 0;
let passed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}: ${detail}`);
  }
}

async function put(name, value) {
  const r = await fetch(`${base}/v1/parameters${name}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: JSON.stringify({ type: 'String', value, overwrite: true }),
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${name}: ${r.status} ${await r.text()}`);
}

async function native(name, context) {
  const r = await fetch(`${base}/v1/evaluate${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: JSON.stringify({ context }),
  });
  return r.json();
}

const path = '/ofrep/prod/features/';
await put(path + 'checkout', JSON.stringify({
  default: false, metadata: { jira: 'PAY-1' },
  rules: [{ name: 'premium', when_match: true, conditions: [{ action: 'EQUALS', key: 'tier', value: 'premium' }] }],
}));
await put(path + 'color', JSON.stringify({ variants: { red: '#f00', blue: '#00f' }, default_variant: 'blue',
  rules: [{ name: 'eu', variant: 'red', conditions: [{ action: 'IN', key: 'region', value: ['eu-west-1'] }] }] }));
await put(path + 'limit', JSON.stringify({ variants: { low: 10, high: 100 }, default_variant: 'low', off_variant: 'low' }));
await put(path + 'theme', JSON.stringify({ variants: { dark: { bg: '#000' } }, default_variant: 'dark', off_variant: 'dark' }));
await put(path + 'rollout', JSON.stringify({ rollout_percentage: 5 }));

OpenFeature.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: base, headers: auth }));
const client = OpenFeature.getClient();

// Each evaluation through the provider equals the native evaluation.
const cases = [
  ['boolean', 'checkout', false, { targetingKey: 'u1', tier: 'premium' }],
  ['boolean', 'checkout', true, { targetingKey: 'u1', tier: 'basic' }],
  ['string', 'color', 'none', { targetingKey: 'u1', region: 'eu-west-1' }],
  ['string', 'color', 'none', { targetingKey: 'u1', region: 'us-east-1' }],
  ['number', 'limit', 0, { targetingKey: 'u1' }],
  ['object', 'theme', {}, { targetingKey: 'u1' }],
];
for (const [type, key, def, ctx] of cases) {
  const method = { boolean: 'getBooleanDetails', string: 'getStringDetails', number: 'getNumberDetails', object: 'getObjectDetails' }[type];
  const d = await client[method](key, def, ctx);
  const n = await native(path + key, ctx);
  const same = JSON.stringify(d.value) === JSON.stringify(n.value) && d.variant === n.variant && d.reason === n.reason;
  check(same && !d.errorCode, `${type} ${key} ${JSON.stringify(ctx)} = ${JSON.stringify(d.value)} (${d.reason}, ${d.variant})`,
    `provider ${JSON.stringify(d)} vs native ${JSON.stringify(n)}`);
}
const meta = await client.getBooleanDetails('checkout', false, { targetingKey: 'u1', tier: 'premium' });
check(meta.flagMetadata?.jira === 'PAY-1', 'flag metadata reaches the provider', JSON.stringify(meta.flagMetadata));

// Errors: the caller's default with OpenFeature's codes.
const missing = await client.getBooleanDetails('nope', true, { targetingKey: 'u1' });
check(missing.value === true && missing.errorCode === 'FLAG_NOT_FOUND', 'missing flag: default and FLAG_NOT_FOUND', JSON.stringify(missing));
const nokey = await client.getBooleanDetails('rollout', true, {});
check(nokey.value === true && nokey.errorCode === 'TARGETING_KEY_MISSING', 'rollout without a targeting key: TARGETING_KEY_MISSING', JSON.stringify(nokey));
const mismatch = await client.getBooleanDetails('color', true, { targetingKey: 'u1' });
check(mismatch.value === true && mismatch.errorCode === 'TYPE_MISMATCH', 'boolean asked of a string flag: TYPE_MISMATCH', JSON.stringify(mismatch));

// A rollout at 5% then 50%: every user's answer agrees with the native
// evaluation, the shares are about right, and the 5% stay in at 50%.
for (const pct of [5, 50]) {
  await put(path + 'rollout', JSON.stringify({ rollout_percentage: pct }));
  let on = 0, agree = 0;
  const n = 400;
  for (let i = 0; i < n; i++) {
    const ctx = { targetingKey: `user-${i}` };
    const v = await client.getBooleanValue('rollout', false, ctx);
    const nat = await native(path + 'rollout', ctx);
    if (v === nat.value) agree++;
    if (v) on++;
  }
  check(agree === n, `rollout ${pct}%: provider and native agree for ${n} users`, `${agree} of ${n}`);
  check(Math.abs((100 * on) / n - pct) < 5, `rollout ${pct}%: ${on} of ${n} users on`, `${(100 * on) / n}%`);
}

if (process.env.VANE_TOKEN) {
  const r = await fetch(`${base}/ofrep/v1/evaluate/flags/checkout`, { method: 'POST', body: '{}' });
  check(r.status === 401, 'OFREP without an access key: 401', `status ${r.status}`);
}

await OpenFeature.close();
console.log(`ofrep (node ${process.version}, @openfeature/ofrep-provider): ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
