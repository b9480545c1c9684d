/**
 * The shadow stage's config (analysis.shadow, router.mirror.compare) and its verdict: the
 * difference rate over the window, inconclusive below minCompared or after a reset.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { differenceVerdict } from '../../src/analysis/shadow/difference-verdict.js';
import { configErrorOf, parseConfig } from '../support/config-text.js';
import { ShadowLedger } from '../../src/routers/builtin/shadow-ledger.js';
import type { ShadowSample } from '../../src/proxy/shadow/shadow-sample.js';
import { renderShadowReport } from '../../src/cli/diff-renderer.js';

const BASE = 'app: web\nplatform: { kind: process, command: node }\n';
const parse = parseConfig;
const MIRROR =
  'router:\n  kind: builtin\n  mirror:\n    percent: 50\n    compare: { ignore: [$.timestamp, "$.items[*].id"] }\n';
const SHADOW = 'analysis:\n  shadow: { duration: 2m }\n';

void describe('shadow analysis config', () => {
  void test('ShadowAlone_Loads_WithDefaults_AndTheCompareDefaults', () => {
    const config = parse(`${BASE}${MIRROR}${SHADOW}`);
    assert.deepEqual(config.analysis?.shadow, {
      duration: 120_000,
      minCompared: 50,
      maxDifferenceRate: 0.01,
    });
    assert.deepEqual(config.analysis?.providers, []);
    assert.ok(config.router.kind === 'builtin');
    assert.deepEqual(config.router.mirror?.compare, {
      headers: ['content-type'],
      ignore: ['$.timestamp', '$.items[*].id'],
      maxBodyBytes: 65_536,
      maxConcurrent: 64,
      timeout: 5_000,
      secretHeaders: [],
      secretQueryParams: [],
    });
  });

  void test('NeitherProvidersNorShadow_IsRefused', () => {
    assert.match(
      configErrorOf(`${BASE}analysis:\n  bake: 1m\n`),
      /at least one provider .* or a shadow comparison/,
    );
  });

  void test('ShadowWithoutCompare_IsRefused_NamingTheKeysToSet', () => {
    const message = configErrorOf(`${BASE}router: { kind: builtin, mirror: { percent: 10 } }\n${SHADOW}`);
    assert.match(message, /cutover\.yml:\d+/);
    assert.match(message, /analysis\.shadow/);
    assert.match(message, /router\.mirror\.compare/);
    assert.match(configErrorOf(`${BASE}${SHADOW}`), /router\.mirror\.percent above 0/);
    const zero = MIRROR.replace('percent: 50', 'percent: 0');
    assert.match(configErrorOf(`${BASE}${zero}${SHADOW}`), /router\.mirror\.percent above 0/);
  });

  void test('ShadowWithAnotherRouter_IsRefused', () => {
    const nginx = 'router: { kind: nginx, configFile: /tmp/x.conf, includeFile: /tmp/u.conf }\n';
    assert.match(configErrorOf(`${BASE}${nginx}${SHADOW}`), /router\.kind is "nginx"/);
  });

  void test('BadIgnoredPaths_BadPercent_ShortDuration_AreRefused_WithTheKey', () => {
    const bad = (ignore: string): string => MIRROR.replace('[$.timestamp, "$.items[*].id"]', ignore);
    const message = configErrorOf(`${BASE}${bad('["$..id"]')}${SHADOW}`);
    assert.match(message, /router\.mirror\.compare\.ignore\[0\]/);
    assert.match(message, /not a path cutover reads/);
    assert.match(configErrorOf(`${BASE}${bad('[timestamp]')}${SHADOW}`), /starts with "\$"/);
    assert.match(
      configErrorOf(`${BASE}${MIRROR}analysis:\n  shadow: { duration: 2m, maxDifferenceRate: 0.01 }\n`),
      /analysis\.shadow\.maxDifferenceRate/,
    );
    assert.match(configErrorOf(`${BASE}${MIRROR}analysis:\n  shadow: { duration: 500ms }\n`), /at least 1s/);
    assert.match(configErrorOf(`${BASE}${MIRROR}analysis:\n  shadow: { duration: 1m, extra: 1 }\n`), /extra/);
    const header = MIRROR.replace('compare: {', 'compare: { headers: ["bad header"],');
    assert.match(configErrorOf(`${BASE}${header}${SHADOW}`), /a header field name/);
  });
});

void describe('shadow verdict', () => {
  const config = { minCompared: 20, maxDifferenceRate: 0.01 };
  const counts = (compared: number, differing: number, dropped = 0) => ({ compared, differing, dropped });

  void test('FewerThanMinCompared_IsInconclusive', () => {
    const finding = differenceVerdict('shadow', 'green', counts(5, 0), counts(24, 10, 3), config);
    assert.equal(finding.verdict, 'inconclusive');
    assert.equal(finding.measure, 'compared pairs');
    assert.equal(finding.observed, 19);
    assert.match(
      finding.reason,
      /19 mirrored requests compared on green, 10 differing, 3 dropped: fewer than minCompared 20/,
    );
  });

  void test('ADifferenceRateAboveTheThreshold_Fails_AtOrBelow_Passes', () => {
    const failed = differenceVerdict('shadow', 'green', counts(0, 0), counts(200, 3), config);
    assert.equal(failed.verdict, 'fail');
    assert.equal(failed.observed, '1.5%');
    assert.equal(failed.threshold, '1%');
    assert.match(failed.reason, /cutover diff/);
    assert.equal(differenceVerdict('shadow', 'green', counts(0, 0), counts(200, 2), config).verdict, 'pass');
    assert.equal(
      differenceVerdict('shadow', 'green', counts(0, 0), counts(20, 0, 500), config).verdict,
      'pass',
    );
  });

  void test('CountsThatWentDown_AreInconclusive', () => {
    const finding = differenceVerdict('shadow', 'blue', counts(100, 5), counts(10, 0), config);
    assert.equal(finding.verdict, 'inconclusive');
    assert.match(finding.reason, /reset/);
  });
});

const sample = (target: string): ShadowSample => ({
  at: '2026-01-01T00:00:00.000Z',
  method: 'GET',
  target,
  live: {
    status: 200,
    headers: { 'content-type': 'application/json' },
    bodyBytes: 8,
    body: '{"a":1}',
    bodyCut: false,
  },
  shadow: { status: 500, headers: {}, bodyBytes: 3, body: null, bodyCut: false },
  statusDiffers: true,
  headers: ['content-type'],
  body: { kind: 'bytes', offset: 0, line: 1 },
});

void describe('shadow ledger and cutover diff rendering', () => {
  void test('TheLedger_SumsWorkers_KeepsTheLast20SamplesPerSlot_BySinceTime', () => {
    let now = 1_000;
    const ledger = new ShadowLedger(() => now);
    const zero = { compared: 0, differing: 0, dropped: 0 };
    ledger.record({
      event: 'shadow',
      counts: { blue: zero, green: counts3(5, 1, 2) },
      samples: [{ slot: 'green', sample: sample('/a') }],
    });
    now = 2_000;
    const many = Array.from({ length: 25 }, (_, i) => ({ slot: 'green' as const, sample: sample(`/b${i}`) }));
    ledger.record({
      event: 'shadow',
      counts: { blue: counts3(1, 0, 0), green: counts3(3, 2, 0) },
      samples: many,
    });
    assert.deepEqual(ledger.counts(), { blue: counts3(1, 0, 0), green: counts3(8, 3, 2) });
    assert.equal(ledger.samples('green', 0).length, 20);
    assert.equal(ledger.samples('green', 0)[0]?.target, '/b5');
    assert.equal(ledger.samples('green', 2_001).length, 0);
    assert.equal(ledger.samples('blue', 0).length, 0);
  });

  void test('TheRenderer_ShowsRequestLineStatusesHeadersAndBodies_WithoutControlCharacters', () => {
    const lines = renderShadowReport('d-1', {
      startedAt: 'then',
      finding: null,
      samples: [sample('/x\u001b[31m?q=1')],
    }).join('\n');
    assert.match(lines, /GET \/x\\x1b\[31m\?q=1/);
    assert.ok(!lines.includes('\u001b'));
    assert.match(lines, /status: live 200, shadow 500 {2}← differs/);
    assert.match(lines, /header content-type: live "application\/json", shadow \(absent\)/);
    assert.match(lines, /body differs from byte 0 \(line 1\)/);
    assert.match(lines, /shadow body: \(3 bytes, binary\)/);
    assert.match(
      renderShadowReport('d-1', { startedAt: 'then', finding: null, samples: [] }).join('\n'),
      /no differing pair/,
    );
  });
});

function counts3(compared: number, differing: number, dropped: number) {
  return { compared, differing, dropped };
}
