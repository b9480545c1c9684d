import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { weightsAllOn } from '../../src/shared/slot.js';
import { createNginxRouter } from '../../src/routers/nginx/nginx-router.js';
import { startNginxHarness, type NginxHarness } from '../support/daemons/nginx.js';
import { prepareBlueLivePair, type BlueGreenBackends } from './blue-live-pair.js';
import { runRouterContract, sample } from './contract.js';

runRouterContract('nginx', () => startNginxHarness());

void describe('nginx router', () => {
  let harness: NginxHarness;
  let pair: BlueGreenBackends | undefined;

  before(async () => {
    harness = await startNginxHarness();
    await harness.router.open();
    pair = await prepareBlueLivePair(harness.router);
  });

  after(async () => {
    await harness?.router.close();
    await harness?.teardown();
    await pair?.close();
  });

  void it('NginxTestRejection_KeepsOldConfigServingAndFileUntouched', async () => {
    const before = await readFile(harness.includeFile, 'utf8');
    const undo = await harness.rejectNextConfig();
    try {
      await assert.rejects(harness.router.setWeights(weightsAllOn('green')), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'));
        assert.match(error.message, /nginx rejected the new config.*cutover_contract_breaks_this/);
        return true;
      });
      assert.equal(await readFile(harness.includeFile, 'utf8'), before, 'the include file is untouched');
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
    } finally {
      await undo();
    }
    await harness.router.setWeights(weightsAllOn('green'));
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
  });

  void it('IncludeChangedWithoutReload_VerifySaysUnverifiable', async () => {
    await harness.router.setWeights(weightsAllOn('blue'));
    // As if someone saved the file after nginx last loaded it (mtime after the workers started).
    const later = new Date(Date.now() + 5000);
    await utimes(harness.includeFile, later, later);
    const seen = await harness.router.verify();
    assert.equal(seen.kind, 'unverifiable');
    await harness.router.setWeights(weightsAllOn('blue'));
    assert.equal((await harness.router.verify()).kind, 'observed');
  });

  void it('IncludeFileHoldingThePreviewToken_IsMode0600', async () => {
    await harness.router.preview('green');
    const text = await readFile(harness.includeFile, 'utf8');
    assert.ok(text.includes(harness.previewToken), 'the map compares the header with the token');
    assert.equal((await stat(harness.includeFile)).mode & 0o777, 0o600);
  });

  void it('IncludeFileOfAnOlderCutover_AnyValueMap_IsReplacedWhenTheRouterOpens', async () => {
    await harness.router.preview('green');
    // What cutover wrote before the preview token: any value of the header reached the preview upstream.
    const old = (await readFile(harness.includeFile, 'utf8')).replace(
      new RegExp(`"~\\^${harness.previewToken}\\$"`),
      '"~."',
    );
    assert.match(old, /"~\." cutover_preview;/);
    await writeFile(harness.includeFile, old);
    harness.reloadByHand();
    await waitForAnswer(harness.publicUrl, { 'x-cutover-preview': 'anything' }, 'green-1');
    const reopened = createNginxRouter(harness.config, {
      logger: silentLogger,
      baseDir: harness.dir,
      previewToken: harness.previewToken,
    });
    await reopened.open();
    assert.deepEqual(
      new Set(await sample(harness.publicUrl, 10, { 'x-cutover-preview': 'anything' })),
      new Set(['blue-1']),
    );
    assert.deepEqual(
      new Set(await sample(harness.publicUrl, 10, { 'x-cutover-preview': harness.previewToken })),
      new Set(['green-1']),
    );
    await reopened.close();
  });

  void it('AnotherToken_DoesNotReachThePreviewUpstream', async () => {
    await harness.router.preview('green');
    const other = randomBytes(32).toString('base64url');
    assert.deepEqual(
      new Set(await sample(harness.publicUrl, 10, { 'x-cutover-preview': other })),
      new Set(['blue-1']),
    );
  });
});

/** Samples until every answer is `body` (a reload by hand takes effect when nginx has done it). */
async function waitForAnswer(url: string, headers: Record<string, string>, body: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const seen = new Set(await sample(url, 5, headers));
    if (seen.size === 1 && seen.has(body)) return;
    if (Date.now() > deadline) throw new Error(`still ${[...seen].join(', ')} after 10s, not ${body}`);
  }
}
