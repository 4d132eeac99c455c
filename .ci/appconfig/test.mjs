// Drives Vane's AppConfig data plane (AppConfigData) with the real
// AppConfigProvider of Powertools for AWS Lambda (TypeScript) and with the
// AWS SDK's AppConfigDataClient under it, signing with the admin access key.
//
// It seeds parameters with the vane CLI, fetches a freeform profile and the
// `features` profile (the flags under /shop/prod/features/ as one
// Powertools feature-flags document), evaluates that document by hand the
// way Powertools' feature flags do and compares each answer with Vane's
// native POST /v1/evaluate, changes a flag with `vane put`, and checks that
// the next poll of a session returns the new document and the poll after
// it an empty body; then the errors a client meets.
//
// Usage: VANE_TOKEN=ID.SECRET VANE_BIN=path/to/vane node test.mjs http://127.0.0.1:PORT
import { execFileSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';

const base = process.argv[2];
const token = process.env.VANE_TOKEN ?? '';
const vaneBin = process.env.VANE_BIN;
if (!base || !token.includes('.') || !vaneBin) {
  console.error('usage: VANE_TOKEN=ID.SECRET VANE_BIN=path/to/vane node test.mjs SERVER_URL');
  process.exit(2);
}
const [accessKeyId, secretAccessKey] = [token.slice(0, token.indexOf('.')), token.slice(token.indexOf('.') + 1)];
const clientConfig = {
  endpoint: base,
  region: 'us-east-1',
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 2,
};

let failed = 0;
let passed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
  return ok;
}
function checkEqual(got, want, what) {
  return check(isDeepStrictEqual(got, want), what, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// vane runs the CLI against the server, as an operator would.
function vane(...args) {
  return execFileSync(vaneBin, ['--server', base, ...args], {
    env: { ...process.env, VANE_TOKEN: token },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// native evaluates a flag with Vane's own API.
async function native(name, context) {
  const r = await fetch(`${base}/v1/evaluate${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ context }),
  });
  if (r.status !== 200) throw new Error(`POST /v1/evaluate${name}: ${r.status} ${await r.text()}`);
  return r.json();
}

// powertoolsEvaluate answers a feature of a Powertools document for a
// context as Powertools' feature flags do (feature_flags.py): the first
// rule, in document order, whose conditions all hold gives its
// when_match; otherwise the feature's default. A rule with no conditions
// never matches there. Only the actions this test uses are known.
function powertoolsEvaluate(doc, feature, context) {
  const f = doc[feature];
  if (f === undefined) throw new Error(`feature ${feature} is not in the document`);
  for (const rule of Object.values(f.rules ?? {})) {
    const conds = rule.conditions ?? [];
    if (conds.length === 0) continue;
    const holds = conds.every(({ action, key, value }) => {
      const v = context[key];
      switch (action) {
        case 'EQUALS': return v === value;
        case 'NOT_EQUALS': return v !== value;
        case 'IN': return Array.isArray(value) && value.includes(v);
        case 'NOT_IN': return Array.isArray(value) && !value.includes(v);
        default: throw new Error(`feature ${feature}: action ${action} is not known to this test`);
      }
    });
    if (holds) return rule.when_match;
  }
  return f.default;
}

function text(bytes) {
  return new TextDecoder().decode(bytes);
}
// isEmpty reports whether a Configuration is an empty body, which the SDK
// may give as undefined, null or zero bytes.
function isEmpty(bytes) {
  return bytes == null || bytes.length === 0;
}

// expectError runs fn, which must throw; returns the error (or undefined).
async function expectError(what, fn) {
  try {
    const out = await fn();
    check(false, what, `the call succeeded: ${JSON.stringify(out)}`);
  } catch (e) {
    return e;
  }
  return undefined;
}

// run seeds the server and runs every check; an exception it does not
// expect is one failure, and the summary is printed all the same.
async function run() {
  // --- Seed: a freeform profile and four flags. ----------------------------
  const app = 'shop';
  const env = 'prod';
  const features = `/${app}/${env}/features/`;
  const limits = { maxItems: 50, timeoutMs: 1500, regions: ['eu-west-1', 'us-east-1'] };
  vane('put', `/${app}/${env}/tuning/limits`, JSON.stringify(limits));
  vane('put', features + 'dark-mode', 'true');
  const checkoutV1 = {
    default: false,
    rules: [
      { name: 'beta-testers', when_match: true, conditions: [{ action: 'EQUALS', key: 'tier', value: 'beta' }] },
      { name: 'eu', when_match: true, conditions: [{ action: 'IN', key: 'region', value: ['eu-west-1', 'eu-central-1'] }] },
    ],
  };
  vane('put', features + 'new-checkout', JSON.stringify(checkoutV1));
  vane('put', features + 'banner', JSON.stringify({
    variants: { classic: 'classic', holiday: 'holiday-2026' },
    default_variant: 'classic',
    rules: [{ name: 'de-market', variant: 'holiday', conditions: [{ action: 'EQUALS', key: 'country', value: 'DE' }] }],
  }));
  vane('put', features + 'max-items', JSON.stringify({
    variants: { small: 10, large: 50 },
    default: 10,
    rules: { premium: { when_match: 50, conditions: [{ action: 'IN', key: 'tier', value: ['premium', 'staff'] }] } },
  }));

  // What Powertools reads of each feature: default, boolean_type (false
  // for a non-boolean feature, else Powertools' schema rejects a non-boolean
  // default) and the rules by name, in order, each with when_match and the
  // conditions as written.
  const eqTier = (v) => [{ action: 'EQUALS', key: 'tier', value: v }];
  const expectedV1 = {
    'dark-mode': { default: true, rules: {} },
    'new-checkout': {
      default: false,
      rules: {
        'beta-testers': { when_match: true, conditions: eqTier('beta') },
        eu: { when_match: true, conditions: [{ action: 'IN', key: 'region', value: ['eu-west-1', 'eu-central-1'] }] },
      },
    },
    banner: {
      default: 'classic', boolean_type: false,
      rules: { 'de-market': { when_match: 'holiday-2026', conditions: [{ action: 'EQUALS', key: 'country', value: 'DE' }] } },
    },
    'max-items': {
      default: 10, boolean_type: false,
      rules: { premium: { when_match: 50, conditions: [{ action: 'IN', key: 'tier', value: ['premium', 'staff'] }] } },
    },
  };
  const contexts = [
    {},
    { tier: 'beta' },
    { tier: 'staff' },
    { region: 'eu-central-1' },
    { region: 'us-east-1', tier: 'premium', country: 'DE' },
  ];

  // checkDocument compares a served document with the expected one and
  // every hand evaluation with the native one.
  async function checkDocument(doc, expected, label) {
    checkEqual(Object.keys(doc ?? {}).sort(), Object.keys(expected).sort(), `${label}: the document has exactly the seeded features`);
    for (const [name, want] of Object.entries(expected)) {
      const got = doc?.[name];
      if (!check(got !== null && typeof got === 'object', `${label}: ${name} is an object`, JSON.stringify(got))) continue;
      const seen = {
        default: got.default,
        rules: Object.fromEntries(Object.entries(got.rules ?? {}).map(([k, r]) => [k, { when_match: r.when_match, conditions: r.conditions }])),
      };
      if ((got.boolean_type ?? true) === false) seen.boolean_type = false;
      const wanted = { default: want.default, rules: want.rules };
      if (want.boolean_type === false) wanted.boolean_type = false;
      checkEqual(seen, wanted, `${label}: ${name} in Powertools' schema`);
      checkEqual(Object.keys(got.rules ?? {}), Object.keys(want.rules), `${label}: ${name}'s rules in document order`);
      for (const ctx of contexts) {
        const mine = powertoolsEvaluate(doc, name, ctx);
        const n = await native(features + name, { targetingKey: 'u1', ...ctx });
        check(isDeepStrictEqual(mine, n.value), `${label}: ${name} ${JSON.stringify(ctx)} = ${JSON.stringify(mine)}, as POST /v1/evaluate says`,
          `the document gives ${JSON.stringify(mine)}, native ${JSON.stringify(n)}`);
      }
    }
  }

  // --- Powertools' AppConfigProvider. --------------------------------------
  const provider = new AppConfigProvider({ application: app, environment: env, clientConfig });
  // What the server sent to the provider on its last GetLatestConfiguration:
  // Powertools hides an empty body behind the value it keeps.
  let lastPoll;
  provider.client.middlewareStack.add((next, context) => async (args) => {
    const result = await next(args);
    if (context.commandName === 'GetLatestConfigurationCommand') lastPoll = result.output;
    return result;
  }, { step: 'initialize', name: 'vaneRecordPoll' });

  const asJSON = await provider.get('tuning/limits', { transform: 'json' });
  checkEqual(asJSON, limits, "Powertools: freeform profile tuning/limits with transform 'json'");
  const raw = await provider.get('tuning/limits', { forceFetch: true });
  check(raw instanceof Uint8Array && isDeepStrictEqual(JSON.parse(text(raw)), limits),
    'Powertools: freeform profile without transform: the bytes of the value', String(raw));

  const doc1 = await provider.get('features', { transform: 'json' });
  await checkDocument(doc1, expectedV1, 'Powertools features');

  // --- The raw AppConfigData client: a session across a change. ------------
  const client = new AppConfigDataClient(clientConfig);
  const limitsSession = await client.send(new StartConfigurationSessionCommand({
    ApplicationIdentifier: app, EnvironmentIdentifier: env, ConfigurationProfileIdentifier: 'tuning/limits',
  }));
  const lp = await client.send(new GetLatestConfigurationCommand({ ConfigurationToken: limitsSession.InitialConfigurationToken }));
  check(lp.ContentType === 'application/json' && lp.VersionLabel === '1' && isDeepStrictEqual(JSON.parse(text(lp.Configuration)), limits),
    'SDK: freeform profile: application/json, VersionLabel = parameter version 1, the value',
    { ContentType: lp.ContentType, VersionLabel: lp.VersionLabel, body: text(lp.Configuration ?? new Uint8Array()) });

  const session = await client.send(new StartConfigurationSessionCommand({
    ApplicationIdentifier: app, EnvironmentIdentifier: env, ConfigurationProfileIdentifier: 'features',
  }));
  check(typeof session.InitialConfigurationToken === 'string' && session.InitialConfigurationToken.length > 0,
    'SDK: StartConfigurationSession features: an InitialConfigurationToken', session);
  const p1 = await client.send(new GetLatestConfigurationCommand({ ConfigurationToken: session.InitialConfigurationToken }));
  check(!isEmpty(p1.Configuration) && p1.ContentType === 'application/json' && !!p1.VersionLabel
    && p1.NextPollIntervalInSeconds === 60 && !!p1.NextPollConfigurationToken,
  'SDK: first poll: the document, application/json, a VersionLabel, NextPollIntervalInSeconds 60, a next token',
  { ...p1, Configuration: text(p1.Configuration ?? new Uint8Array()), $metadata: undefined });
  checkEqual(JSON.parse(text(p1.Configuration)), doc1, 'SDK: first poll: the same document Powertools got');
  const p2 = await client.send(new GetLatestConfigurationCommand({ ConfigurationToken: p1.NextPollConfigurationToken }));
  check(isEmpty(p2.Configuration) && !!p2.NextPollConfigurationToken && p2.NextPollConfigurationToken !== p1.NextPollConfigurationToken,
    'SDK: second poll, nothing changed: an empty body and a new token',
    { Configuration: p2.Configuration && text(p2.Configuration), token: p2.NextPollConfigurationToken });

  // Change a flag with the CLI: tier staff joins the beta testers.
  const checkoutV2 = structuredClone(checkoutV1);
  checkoutV2.rules[0].conditions = [{ action: 'IN', key: 'tier', value: ['beta', 'staff'] }];
  vane('put', features + 'new-checkout', JSON.stringify(checkoutV2), '--overwrite');
  const expectedV2 = structuredClone(expectedV1);
  expectedV2['new-checkout'].rules['beta-testers'].conditions = checkoutV2.rules[0].conditions;

  const p3 = await client.send(new GetLatestConfigurationCommand({ ConfigurationToken: p2.NextPollConfigurationToken }));
  check(!isEmpty(p3.Configuration) && p3.VersionLabel && p3.VersionLabel !== p1.VersionLabel,
    'SDK: the poll after `vane put`: a document with a new VersionLabel',
    { VersionLabel: p3.VersionLabel, before: p1.VersionLabel, body: p3.Configuration && text(p3.Configuration) });
  const doc2 = isEmpty(p3.Configuration) ? {} : JSON.parse(text(p3.Configuration));
  await checkDocument(doc2, expectedV2, 'SDK features after the change');
  check(powertoolsEvaluate(doc2, 'new-checkout', { tier: 'staff' }) === true, 'SDK: after the change new-checkout is on for tier staff',
    JSON.stringify(doc2['new-checkout']));
  const p4 = await client.send(new GetLatestConfigurationCommand({ ConfigurationToken: p3.NextPollConfigurationToken }));
  check(isEmpty(p4.Configuration) && !!p4.NextPollConfigurationToken, 'SDK: the poll after that: an empty body',
    { Configuration: p4.Configuration && text(p4.Configuration) });

  // Powertools: a forced fetch sees the change; the next forced fetch gets an
  // empty body from the server and keeps the document it has.
  const forced = await provider.get('features', { transform: 'json', forceFetch: true });
  checkEqual(forced, doc2, 'Powertools: forceFetch after the change returns the new document');
  check(!isEmpty(lastPoll?.Configuration), 'Powertools: that fetch was a poll the server answered with the document', lastPoll);
  const again = await provider.get('features', { transform: 'json', forceFetch: true });
  check(lastPoll && isEmpty(lastPoll.Configuration), 'Powertools: forceFetch again: the server answered with an empty body',
    { Configuration: lastPoll?.Configuration && text(lastPoll.Configuration) });
  checkEqual(again, doc2, 'Powertools: ... and the provider keeps the new document');
  const zero = await provider.get('features', { transform: 'json', maxAge: 0 });
  checkEqual(zero, doc2, 'Powertools: maxAge 0 returns the new document');

  // --- Errors. -------------------------------------------------------------
  let e = await expectError('SDK: a spent token is refused', () =>
    client.send(new GetLatestConfigurationCommand({ ConfigurationToken: p3.NextPollConfigurationToken })));
  if (e) {
    check(e.name === 'BadRequestException' && e.$metadata?.httpStatusCode === 400 && e.Reason === 'InvalidParameters'
      && ['Expired', 'Corrupted'].includes(e.Details?.InvalidParameters?.ConfigurationToken?.Problem),
    `SDK: a spent token: BadRequestException, Problem ${e.Details?.InvalidParameters?.ConfigurationToken?.Problem}`,
    { name: e.name, status: e.$metadata?.httpStatusCode, Reason: e.Reason, Details: e.Details, message: e.message });
  }
  e = await expectError('SDK: a made-up token is refused', () =>
    client.send(new GetLatestConfigurationCommand({ ConfigurationToken: 'not-a-token' })));
  if (e) {
    check(e.name === 'BadRequestException' && e.$metadata?.httpStatusCode === 400
      && e.Details?.InvalidParameters?.ConfigurationToken?.Problem === 'Corrupted',
    'SDK: a made-up token: BadRequestException, Problem Corrupted',
    { name: e.name, status: e.$metadata?.httpStatusCode, Reason: e.Reason, Details: e.Details, message: e.message });
  }
  e = await expectError('SDK: StartConfigurationSession of a missing profile is refused', () =>
    client.send(new StartConfigurationSessionCommand({ ApplicationIdentifier: app, EnvironmentIdentifier: env, ConfigurationProfileIdentifier: 'no-such-profile' })));
  if (e) {
    check(e.name === 'ResourceNotFoundException' && e.$metadata?.httpStatusCode === 404 && e.ResourceType === 'ConfigurationProfile',
      'SDK: a missing profile: ResourceNotFoundException, ResourceType ConfigurationProfile',
      { name: e.name, status: e.$metadata?.httpStatusCode, ResourceType: e.ResourceType, message: e.message });
  }
  e = await expectError('Powertools: a missing profile is refused', () => provider.get('no-such-profile'));
  if (e) {
    check(e.name === 'GetParameterError' && e.cause?.name === 'ResourceNotFoundException',
      'Powertools: a missing profile: GetParameterError caused by ResourceNotFoundException',
      { name: e.name, cause: e.cause?.name, message: e.message });
  }
  const stranger = new AppConfigProvider({ application: 'no-such-app', environment: env, clientConfig });
  e = await expectError('Powertools: a missing application is refused', () => stranger.get('features'));
  if (e) {
    check(e.cause?.name === 'ResourceNotFoundException' && e.cause?.ResourceType === 'Application',
      'Powertools: a missing application: ResourceNotFoundException, ResourceType Application',
      { name: e.name, cause: e.cause?.name, ResourceType: e.cause?.ResourceType, message: e.message });
  }
  const unsigned = new AppConfigDataClient({ ...clientConfig, credentials: { accessKeyId, secretAccessKey: 'wrong' } });
  e = await expectError('SDK: a wrong secret is refused', () =>
    unsigned.send(new StartConfigurationSessionCommand({ ApplicationIdentifier: app, EnvironmentIdentifier: env, ConfigurationProfileIdentifier: 'features' })));
  if (e) {
    // AWS answers a bad signature on its REST-JSON services with 403; the
    // SSM protocol's 400 would do for the SDK, which only needs the name.
    check([400, 403].includes(e.$metadata?.httpStatusCode) && /^[A-Z][A-Za-z]+(Exception|Error)$/.test(e.name) && e.name !== 'UnknownError',
      `SDK: a wrong secret: ${e.$metadata?.httpStatusCode} ${e.name}`, { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message });
  }
}

try {
  await run();
} catch (e) {
  check(false, 'unexpected exception', e?.stack ?? String(e));
}
console.log(`appconfig (node ${process.version}, @aws-lambda-powertools/parameters, @aws-sdk/client-appconfigdata): ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
