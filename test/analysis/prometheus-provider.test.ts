/**
 * The prometheus provider against a real local HTTP server playing Prometheus's query API:
 * what it sends (POST form, `time` = the window's end, escaped placeholders, the bearer token in a
 * header only), how a window's measurements make its verdict (interval, count, failureLimit,
 * inconclusiveLimit), and hostile or broken answers — each either an inconclusive measurement or
 * a rejection with CUTOVER_E_ANALYSIS_PROVIDER, never a fail, never a hang.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prometheusAnalysisConfig } from '../../src/analysis/prometheus/config.js';
import { prometheusAnalysis } from '../../src/analysis/prometheus/index.js';
import { escapePromqlString, fillQuery, promqlWindow } from '../../src/analysis/prometheus/query-template.js';
import type { AnalysisProvider, AnalysisRequest } from '../../src/shared/analysis.js';
import { silentLogger } from '../../src/shared/logger.js';
import {
  huge,
  json,
  resets,
  silent,
  stallsMidBody,
  startScriptedSource,
  text,
  type ScriptedSource,
} from './scripted-http-source.js';
import { rejection } from './provider-rejection.js';

const START = Date.parse('2026-12-05T10:00:00.000Z');
const request = (ageMs: number, extra: Partial<AnalysisRequest> = {}): AnalysisRequest => ({
  deploymentId: 'd-1',
  app: 'web',
  release: 'v2',
  newSlot: 'green',
  oldSlot: 'blue',
  oldRelease: 'v1',
  stage: 'shift',
  step: 0,
  window: { start: new Date(START).toISOString(), end: new Date(START + ageMs).toISOString() },
  signal: new AbortController().signal,
  ...extra,
});
const scalar = (value: string) =>
  json({ status: 'success', data: { resultType: 'scalar', result: [1, value] } });
const vector = (...values: string[]) =>
  json({
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((value, i) => ({ metric: { i: String(i) }, value: [1, value] })),
    },
  });

void describe('prometheus provider', () => {
  let source: ScriptedSource;
  let dir: string;
  const make = (entry: Record<string, unknown> = {}): Promise<AnalysisProvider> =>
    prometheusAnalysis.create(
      prometheusAnalysisConfig.parse({
        kind: 'prometheus',
        address: source.url,
        query: 'sum(rate(errors{slot="{{slot}}"}[{{window}}]))',
        successCondition: 'result < 0.02',
        interval: '1s',
        timeout: '500ms',
        ...entry,
      }),
      { logger: silentLogger, baseDir: dir },
    );

  before(async () => {
    source = await startScriptedSource();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-prom-provider-'));
  });
  after(async () => {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('ItPostsTheFilledQueryAtTheWindowsEnd_ToApiV1Query_UnderTheAddressPath', async () => {
    source.received.length = 0;
    source.answer(scalar('0.01'));
    const provider = await make({ address: `${source.url}/prom/` });
    const finding = await provider.check(request(95_000));
    assert.equal(finding.verdict, 'pass');
    const [sent] = source.received;
    assert.ok(sent);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/prom/api/v1/query');
    const form = new URLSearchParams(sent.body);
    assert.equal(form.get('query'), 'sum(rate(errors{slot="green"}[95s]))');
    assert.equal(form.get('time'), String((START + 95_000) / 1000) + '.000');
    assert.equal(sent.headers.authorization, undefined);
    assert.equal(finding.subject, 'sum(rate(errors{slot="green"}[95s]))');
    assert.equal(finding.measure, 'query result');
    assert.equal(finding.observed, 0.01);
    assert.equal(finding.threshold, 'pass: result < 0.02');
    assert.match(finding.reason, /result 0\.01 meets result < 0\.02; 1 measurement\(s\): 1 passed/);
  });

  void test('PlaceholderValuesAreEscapedForPromqlStrings_AndTheWindowIsWholeSecondsAtLeastOne', () => {
    const hostile = 'x"} or vector(1) # \\ \' \n\u0007';
    assert.equal(escapePromqlString(hostile), 'x\\"} or vector(1) # \\\\ \\\' \\n\\u0007');
    const filled = fillQuery('a{r="{{release}}",o="{{ oldRelease }}",s="{{oldSlot}}"}[{{window}}] {{slot}}', {
      ...request(1_200),
      release: hostile,
      oldRelease: null,
      oldSlot: null,
    });
    assert.equal(filled, `a{r="${escapePromqlString(hostile)}",o="",s=""}[2s] green`);
    assert.equal(promqlWindow(request(0).window), '1s');
    assert.equal(promqlWindow(request(60_000).window), '60s');
  });

  void test('TheBearerTokenComesFromTokenFile_InAHeaderOnly_ReadAtEachQuery', async () => {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 's3cret-one\n');
    source.received.length = 0;
    source.answer(scalar('0'));
    const provider = await make({ tokenFile: 'token' });
    await provider.check(request(1_000));
    writeFileSync(tokenFile, 's3cret-two');
    await provider.check(request(2_000));
    assert.deepEqual(
      source.received.map((r) => r.headers.authorization),
      ['Bearer s3cret-one', 'Bearer s3cret-two'],
    );
    assert.ok(source.received.every((r) => !r.url.includes('s3cret')));

    const missing = await rejection((await make({ tokenFile: 'nope' })).check(request(1_000)));
    assert.match(missing.message, /cannot read tokenFile .*nope \(ENOENT\)/);
    writeFileSync(tokenFile, 'two words\n');
    const bad = await rejection((await make({ tokenFile: 'token' })).check(request(1_000)));
    assert.match(bad.message, /does not start with a token/);
    assert.doesNotMatch(bad.message, /two words/);
  });

  void test('MeasurementsAreOneIntervalApart_TheFirstOneIntervalIn_AtMostCount', async () => {
    source.received.length = 0;
    source.answer(scalar('0'));
    const provider = await make({ interval: '2s', count: 2 });
    const early = await provider.check(request(1_500));
    assert.equal(early.verdict, 'inconclusive');
    assert.match(early.reason, /no measurement yet/);
    assert.equal(source.received.length, 0, 'nothing asked before one interval');
    assert.equal((await provider.check(request(2_000))).verdict, 'pass');
    assert.equal((await provider.check(request(3_000))).verdict, 'pass');
    assert.equal(source.received.length, 1, 'the second measurement waits for 2 intervals');
    await provider.check(request(4_100));
    await provider.check(request(9_000));
    assert.equal(source.received.length, 2, 'count 2: no third query');
    // Another window (the next step) is counted on its own.
    await provider.check(
      request(2_000, {
        step: 1,
        window: { start: '2026-12-05T10:01:00.000Z', end: '2026-12-05T10:01:02.000Z' },
      }),
    );
    assert.equal(source.received.length, 3);
  });

  void test('FailureLimit_TheWindowFailsOnlyPastIt_AndAFailStaysForTheWindow', async () => {
    const provider = await make({ failureLimit: 1 });
    source.answer(scalar('0.05'));
    const tolerated = await provider.check(request(1_000));
    assert.equal(tolerated.verdict, 'inconclusive', 'one tolerated failure and nothing passed yet');
    source.answer(scalar('0.01'));
    assert.equal((await provider.check(request(2_000))).verdict, 'pass', 'one failure within failureLimit 1');
    source.answer(scalar('0.07'));
    const failed = await provider.check(request(3_000));
    assert.equal(failed.verdict, 'fail');
    assert.equal(failed.observed, 0.07);
    assert.match(
      failed.reason,
      /result 0\.07 does not meet result < 0\.02; 3 measurement\(s\): 1 passed, 2 failed.*failureLimit 1/,
    );
    source.answer(scalar('0'));
    assert.equal((await provider.check(request(4_000))).verdict, 'fail');
  });

  void test('InconclusiveLimit_ToleratedInconclusivesDoNotHideAPass', async () => {
    const provider = await make({ inconclusiveLimit: 1 });
    source.answer(vector());
    assert.equal((await provider.check(request(1_000))).verdict, 'inconclusive');
    source.answer(scalar('0'));
    assert.equal((await provider.check(request(2_000))).verdict, 'pass');
    source.answer(scalar('NaN'));
    const over = await provider.check(request(3_000));
    assert.equal(over.verdict, 'inconclusive');
    assert.match(over.reason, /NaN.*inconclusiveLimit 1/);
  });

  void test('BothConditions_FailureWins_NeitherIsInconclusive_OnlyFailureCondition_NotMetPasses', async () => {
    const both = () =>
      make({ successCondition: 'result < 0.02', failureCondition: { op: '>=', value: 0.01 } });
    source.answer(scalar('0.015'));
    assert.equal((await (await both()).check(request(1_000))).verdict, 'fail');
    const neither = await make({ successCondition: 'result < 0.02', failureCondition: 'result > 0.05' });
    source.answer(scalar('0.03'));
    const middle = await neither.check(request(1_000));
    assert.equal(middle.verdict, 'inconclusive');
    assert.match(middle.reason, /meets neither/);
    assert.equal(middle.threshold, 'pass: result < 0.02, fail: result > 0.05');
    const onlyFailure = await make({ successCondition: undefined, failureCondition: 'result > 0.05' });
    source.answer(scalar('+Inf'));
    const infinite = await onlyFailure.check(request(1_000));
    assert.equal(infinite.verdict, 'fail', '+Inf compares as a number');
    assert.equal(infinite.observed, 'Infinity', 'kept readable in the JSON of the record');
    source.answer(scalar('1e-3'));
    assert.equal(
      (
        await (
          await make({ successCondition: undefined, failureCondition: 'result > 0.05' })
        ).check(request(1_000))
      ).verdict,
      'pass',
    );
  });

  void test('NoNumberToJudge_IsAnInconclusiveMeasurementWithAClearReason', async () => {
    const cases: [ReturnType<typeof json>, RegExp][] = [
      [vector(), /empty vector/],
      [vector('0.1', '0.2'), /2 series, not one number; aggregate/],
      [scalar('NaN'), /NaN/],
      [json({ status: 'success', data: { resultType: 'matrix', result: [] } }), /returned a matrix/],
      [json({ status: 'success', data: { resultType: 'string', result: [1, 'x'] } }), /returned a string/],
      [
        json(
          { status: 'error', errorType: 'bad_data', error: 'parse error at char 5:\u001b[31m unexpected' },
          400,
        ),
        /could not run the query \(bad_data\): parse error at char 5: \[31m unexpected/,
      ],
      [
        json({ status: 'error', errorType: 'timeout', error: 'query timed out' }, 503),
        /\(timeout\): query timed out/,
      ],
      [
        json({ status: 'error', errorType: 'execution', error: 'x'.repeat(5000) }, 422),
        /\(execution\): x+…; 1 measurement/,
      ],
    ];
    for (const [answer, reason] of cases) {
      source.answer(answer);
      const finding = await (await make()).check(request(1_000));
      assert.equal(finding.verdict, 'inconclusive', String(reason));
      assert.match(finding.reason, reason);
      assert.ok(finding.reason.length < 1000);
    }
  });

  void test('AnswersThatAreNotTheApi_Reject_NeverFail', async () => {
    const cases: [ReturnType<typeof json>, RegExp][] = [
      [text('<html>502 Bad Gateway</html>', 502), /HTTP 502, not JSON/],
      [text('<html>hello</html>', 200), /HTTP 200, not JSON/],
      [json([1, 2]), /not a JSON object/],
      [json({ status: 'success' }), /no "status": "success" with "data"/],
      [
        json({ status: 'success', data: { resultType: 'scalar', result: [1, 0.5] } }),
        /not \[time, "value"\]/,
      ],
      [json({ status: 'success', data: { resultType: 'scalar', result: [1, '0.5; drop'] } }), /not a number/],
      [json({ status: 'success', data: { resultType: 'vector', result: {} } }), /not a list/],
      [json({ status: 'success', data: { resultType: 'vector', result: ['x'] } }), /not an object/],
      [json({ error: 'nope' }, 500), /HTTP 500, not a query error/],
      [
        (response) => response.writeHead(302, { location: 'http://127.0.0.1:1/steal' }).end(),
        /redirect \(HTTP 302\)/,
      ],
    ];
    for (const [answer, message] of cases) {
      source.answer(answer);
      const error = await rejection((await make()).check(request(1_000)));
      assert.match(error.message, message);
      assert.match(error.message, /^prometheus: /);
    }
  });

  void test('SlowHugeOrResetAnswers_RejectWithinTheTimeout_AndUnreachableRejects', async () => {
    for (const [answer, message] of [
      [silent, /no complete answer within 500 ms/],
      [stallsMidBody, /no complete answer within 500 ms/],
      [huge(2 * 1024 * 1024), /over the 1048576-byte cap/],
      [
        (response: ServerResponse) => {
          // Declared too large: refused before a byte of the body is read.
          response.writeHead(200, { 'content-length': String(1024 * 1024 + 1) });
          response.end('x'.repeat(1024 * 1024 + 1));
        },
        /answer of 1048577 bytes is over the 1048576-byte cap/,
      ],
      [resets, /cannot reach it \(ECONNRESET\)|cannot reach it/],
    ] as const) {
      source.answer(answer);
      const error = await rejection((await make()).check(request(1_000)));
      assert.match(error.message, message);
    }
    const closed = await startScriptedSource();
    const address = closed.url;
    await closed.close();
    const error = await rejection((await make({ address })).check(request(1_000)));
    assert.match(error.message, /cannot reach it \(ECONNREFUSED\)/);
    assert.doesNotMatch(error.message, /127\.0\.0\.1/, 'no address in the message');
  });

  void test('ARejectionIsNoMeasurement_TheNextCheckAsksAgain', async () => {
    const provider = await make();
    source.received.length = 0;
    source.answer(text('down', 502));
    await rejection(provider.check(request(1_000)));
    source.answer(scalar('0'));
    assert.equal((await provider.check(request(1_500))).verdict, 'pass');
    assert.equal(source.received.length, 2);
  });

  void test('TheEnginesSignal_CutsAHangingQueryShort', async () => {
    source.answer(silent);
    const controller = new AbortController();
    const pending = (await make({ timeout: '30s' })).check(request(1_000, { signal: controller.signal }));
    controller.abort();
    const error = await rejection(pending);
    assert.match(error.message, /cut short/);
  });
});
