import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes } from 'node:fs/promises';
import { isCutoverError } from '../../src/core/errors.js';
import { weightsAllOn } from '../../src/core/slot.js';
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
});
