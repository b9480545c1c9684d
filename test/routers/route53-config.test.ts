/**
 * The route53 `router:` section through the real config loader: sane defaults, every hostile
 * value refused naming file, line and key, and `strategy.kind: shift` accepted only with
 * `mode: weighted` (the descriptor's configured capabilities).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { isCutoverError } from '../../src/shared/errors.js';

const BASE = `app: web
platform:
  kind: process
  command: node
router:
`;
const MINIMAL =
  '  kind: route53\n  hostedZoneId: Z0123456789ABC\n  recordName: www.example.com\n  region: us-east-1\n';

function load(text: string) {
  return parseConfigText(text, '/srv/web/cutover.yml');
}

function refusal(text: string): string {
  try {
    load(text);
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
    return error.message;
  }
  assert.fail(`accepted:\n${text}`);
}

void test('alias mode, TTL 60 s, margin 60 s, the SDK retry budget and a 5-minute settle timeout by default', () => {
  assert.deepEqual(load(`${BASE}${MINIMAL}`).router, {
    kind: 'route53',
    hostedZoneId: 'Z0123456789ABC',
    recordName: 'www.example.com',
    mode: 'alias',
    ttl: 60_000,
    dnsMargin: 60_000,
    region: 'us-east-1',
    maxAttempts: 3,
    settleTimeout: 300_000,
    callTimeout: 30_000,
  });
  const tuned = load(`${BASE}${MINIMAL}  mode: weighted\n  ttl: 5m\n  dnsMargin: 2m\n`).router;
  assert.equal(tuned.kind === 'route53' && tuned.ttl, 300_000);
  assert.equal(tuned.kind === 'route53' && tuned.mode, 'weighted');
});

void test('hostile route53 sections are refused naming file, line and key', () => {
  const cases: [string, RegExp][] = [
    [
      '  kind: route53\n  recordName: www.example.com\n  region: us-east-1\n',
      /cutover\.yml:5:\d+: router\.hostedZoneId: required key is missing/,
    ],
    [MINIMAL.replace('Z0123456789ABC', '/hostedzone/Z0123456789ABC'), /:7:\d+: router\.hostedZoneId:/],
    [MINIMAL.replace('Z0123456789ABC', '"Z1; rm -rf /"'), /:7:\d+: router\.hostedZoneId:/],
    [MINIMAL.replace('www.example.com', '"www example.com"'), /:8:\d+: router\.recordName:/],
    [MINIMAL.replace('www.example.com', `${'a.'.repeat(130)}com`), /:8:\d+: router\.recordName:/],
    [MINIMAL.replace('www.example.com', `${'a'.repeat(64)}.com`), /:8:\d+: router\.recordName:/],
    [`${MINIMAL}  mode: geo\n`, /:10:\d+: router\.mode:/],
    // A bare number is milliseconds, like every duration: 60 ms is no DNS TTL.
    [`${MINIMAL}  ttl: 60\n`, /:10:\d+: router\.ttl: .*whole seconds/],
    [`${MINIMAL}  ttl: 1500ms\n`, /:10:\d+: router\.ttl: .*whole seconds/],
    [`${MINIMAL}  dnsMargin: later\n`, /:10:\d+: router\.dnsMargin:/],
    [`${MINIMAL}  secretAccessKey: abc\n`, /:10:\d+: router\.secretAccessKey: unknown key/],
  ];
  const wrong = cases
    .map(([router, expected]) => ({ router, expected, message: refusal(`${BASE}${router}`) }))
    .filter(({ expected, message }) => !expected.test(message));
  assert.deepEqual(wrong, []);
});

void test('strategy shift needs mode weighted', () => {
  const shift = 'strategy:\n  kind: shift\n  steps: [{ weight: 10 }, { weight: 50 }, { weight: 100 }]\n';
  assert.match(
    refusal(`${BASE}${MINIMAL}${shift}`),
    /strategy\.kind: .*route53 router cannot split traffic by weight.*mode: weighted/,
  );
  const accepted = load(`${BASE}${MINIMAL}  mode: weighted\n${shift}`);
  assert.equal(accepted.strategy.kind, 'shift');
});
