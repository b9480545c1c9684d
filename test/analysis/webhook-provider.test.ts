/**
 * The webhook provider against a real local HTTP server: the document it posts, the HMAC
 * signature a receiver can check (the notifications' scheme), the endpoint's verdict taken as it
 * is, and hostile or broken endpoints (not JSON, an unknown verdict, 500, slow, reset, huge, a
 * redirect) rejecting with CUTOVER_E_ANALYSIS_PROVIDER — never a fail — with no URL or token in
 * the message.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { webhookAnalysisConfig } from '../../src/analysis/webhook/config.js';
import { webhookAnalysis } from '../../src/analysis/webhook/index.js';
import type { AnalysisProvider, AnalysisRequest } from '../../src/shared/analysis.js';
import { silentLogger } from '../../src/shared/logger.js';
import {
  huge,
  json,
  resets,
  silent,
  startScriptedSource,
  text,
  type Behaviour,
  type ScriptedSource,
} from './scripted-http-source.js';
import { rejection } from './provider-rejection.js';

const request = (extra: Partial<AnalysisRequest> = {}): AnalysisRequest => ({
  deploymentId: 'd-7',
  app: 'web',
  release: 'v2',
  newSlot: 'green',
  oldSlot: 'blue',
  oldRelease: 'v1',
  stage: 'bake',
  window: { start: '2026-12-05T10:00:00.000Z', end: '2026-12-05T10:00:30.000Z' },
  signal: new AbortController().signal,
  ...extra,
});
const TOKEN = 'tok-SECRET-123';

void describe('webhook provider', () => {
  let source: ScriptedSource;
  let dir: string;
  const make = (entry: Record<string, unknown> = {}): Promise<AnalysisProvider> =>
    webhookAnalysis.create(
      webhookAnalysisConfig.parse({
        kind: 'webhook',
        url: `${source.url}/judge?token=${TOKEN}`,
        timeout: '500ms',
        ...entry,
      }),
      { logger: silentLogger, baseDir: dir },
    );

  before(async () => {
    source = await startScriptedSource();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-webhook-provider-'));
  });
  after(async () => {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('ItPostsTheDeploymentAndWindow_SignedWithTheNotificationScheme', async () => {
    writeFileSync(path.join(dir, 'key'), 'shared-key');
    source.received.length = 0;
    source.answer(json({ verdict: 'pass' }));
    const finding = await (await make({ secretFile: 'key' })).check(request({ stage: 'shift', step: 1 }));
    assert.deepEqual(finding, {
      verdict: 'pass',
      provider: 'webhook',
      measure: 'verdict',
      observed: null,
      threshold: null,
      reason: 'the endpoint answered pass',
    });
    const [sent] = source.received;
    assert.ok(sent);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, `/judge?token=${TOKEN}`);
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(sent.body), {
      deploymentId: 'd-7',
      app: 'web',
      release: 'v2',
      oldRelease: 'v1',
      newSlot: 'green',
      oldSlot: 'blue',
      stage: 'shift',
      step: 1,
      window: { start: '2026-12-05T10:00:00.000Z', end: '2026-12-05T10:00:30.000Z' },
    });
    const timestamp = String(sent.headers['x-cutover-timestamp']);
    const expected = createHmac('sha256', 'shared-key').update(`${timestamp}.${sent.body}`).digest('hex');
    assert.equal(sent.headers['x-cutover-signature'], `sha256=${expected}`);
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60);
  });

  void test('WithoutSecretFile_NoSignature_AndTheBakeHasStepNull', async () => {
    source.received.length = 0;
    source.answer(json({ verdict: 'inconclusive' }));
    assert.equal((await (await make()).check(request())).verdict, 'inconclusive');
    const [sent] = source.received;
    assert.equal(sent?.headers['x-cutover-signature'], undefined);
    assert.equal((JSON.parse(sent?.body ?? '{}') as { step: unknown }).step, null);
  });

  void test('TheEndpointsVerdictAndValues_AreTakenAsTheyAre_BoundedAndPrintable', async () => {
    source.answer(
      json({
        verdict: 'fail',
        measure: 'checkout errors',
        observed: 0.07,
        threshold: '5%',
        reason: 'checkout failed\u001b[2J for 7%\nof carts' + 'x'.repeat(2000),
      }),
    );
    const finding = await (await make()).check(request());
    assert.equal(finding.verdict, 'fail');
    assert.equal(finding.measure, 'checkout errors');
    assert.equal(finding.observed, 0.07);
    assert.equal(finding.threshold, '5%');
    assert.match(finding.reason, /^checkout failed \[2J for 7% of cartsx+…$/);
    assert.ok(finding.reason.length <= 501);
  });

  void test('HostileOrBrokenEndpoints_Reject_NeverFail_NamingNoUrlOrToken', async () => {
    const cases: [Behaviour, RegExp][] = [
      [text('<html>oops</html>'), /not JSON/],
      [json({ verdict: 'maybe' }), /verdict "maybe", not one of pass, fail, inconclusive/],
      [json({ verdict: 'FAIL' }), /verdict "FAIL"/],
      [json({}), /verdict undefined/],
      [json(['pass']), /not an object/],
      [
        json({ verdict: 'fail', observed: { nested: 1 } }),
        /observed that is neither a string nor a finite number/,
      ],
      [json({ verdict: 'fail', reason: 42 }), /reason that is not a string/],
      [json({ verdict: 'fail' }, 500), /HTTP 500, not 2xx/],
      [json({ verdict: 'pass' }, 404), /HTTP 404/],
      [(response) => response.writeHead(307, { location: 'http://127.0.0.1:1/' }).end(), /redirect/],
      [silent, /no complete answer within 500 ms/],
      [resets, /cannot reach it/],
      [huge(200 * 1024), /over the 65536-byte cap/],
    ];
    for (const [answer, message] of cases) {
      source.answer(answer);
      const error = await rejection((await make()).check(request()));
      assert.match(error.message, message);
      assert.match(error.message, /^webhook: /);
      assert.doesNotMatch(error.message, /SECRET|127\.0\.0\.1|judge/, 'neither the URL nor its token');
    }
  });

  void test('UrlFile_IsReadAtEachCheck_AndItsProblemsNameTheFileOnly', async () => {
    const urlFile = path.join(dir, 'url');
    writeFileSync(urlFile, `${source.url}/first?token=${TOKEN}\n`);
    source.received.length = 0;
    source.answer(json({ verdict: 'pass' }));
    const provider = await make({ url: undefined, urlFile: 'url' });
    await provider.check(request());
    writeFileSync(urlFile, `${source.url}/second`);
    await provider.check(request());
    assert.deepEqual(
      source.received.map((r) => r.url.split('?')[0]),
      ['/first', '/second'],
    );
    writeFileSync(urlFile, `ftp://example/${TOKEN}`);
    const bad = await rejection(provider.check(request()));
    assert.match(bad.message, /urlFile .*url does not start with an http\(s\) URL/);
    assert.doesNotMatch(bad.message, /SECRET/);
    const missing = await rejection((await make({ url: undefined, urlFile: 'gone' })).check(request()));
    assert.match(missing.message, /cannot read urlFile .*gone \(ENOENT\)/);
    const noKey = await rejection((await make({ secretFile: 'no-key' })).check(request()));
    assert.match(noKey.message, /cannot read secretFile .*no-key/);
  });

  void test('Config_ExactlyOneOfUrlAndUrlFile_HttpOnly', () => {
    assert.equal(webhookAnalysisConfig.safeParse({ kind: 'webhook' }).success, false);
    assert.equal(
      webhookAnalysisConfig.safeParse({ kind: 'webhook', url: 'http://a/', urlFile: 'f' }).success,
      false,
    );
    assert.equal(
      webhookAnalysisConfig.safeParse({ kind: 'webhook', url: 'file:///etc/passwd' }).success,
      false,
    );
    assert.equal(
      webhookAnalysisConfig.safeParse({ kind: 'webhook', url: 'http://a/', extra: 1 }).success,
      false,
    );
  });
});
