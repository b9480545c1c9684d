/**
 * A rollback call that joins one already under way (two `cutover rollback`s at once, or one
 * taking up a rollback resumed from the journal) wakes the run to retry its move at once; once
 * the move is done that wake must not cut the rolled-back slot's drain short (invariant 5), and
 * the slot is still stopped afterwards. In-process engine, builtin router, real process platform.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness } from './harness.js';
import { deployToStandby, servedBy, startInProcess, type InProcessEngine } from './in-process-engine.js';
import { waitFor } from '../support/load.js';

describe('a rollback joining one under way', () => {
  let harness: CutoverHarness;
  let app: InProcessEngine;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {} }, drainTimeout: '20s' });
    app = await startInProcess(harness);
    await deployToStandby(app, 'v1');
  });
  after(async () => {
    await app?.close();
    await harness?.teardown();
  });

  it('two rollbacks at once both end rolled-back; the request in flight on the new slot is drained, then the slot stops', async () => {
    const deployment = await deployToStandby(app, 'v2');
    assert.equal(await servedBy(harness.trafficUrl), 'v2');
    const slow = fetch(`${harness.trafficUrl}/slow?ms=2000`).then(
      (response) => response.text(),
      (error: unknown) => `cut: ${String(error)}`,
    );
    await waitFor(
      async () => {
        const status = await app.router.drainStatus('green');
        return status.kind === 'counted' && status.inFlight > 0;
      },
      {
        what: 'the slow request to be counted on green',
      },
    );
    const [first, second] = await Promise.all([app.engine.rollback('first'), app.engine.rollback('second')]);
    assert.deepEqual([first.phase, second.phase], ['rolled-back', 'rolled-back']);
    assert.equal(await servedBy(harness.trafficUrl), 'v1');
    await app.engine.finished(deployment.id);
    assert.equal(await slow, 'v2', 'the request in flight on green finished');
    assert.deepEqual((await app.engine.status()).instances.green, [], 'green was stopped after its drain');
  });
});
