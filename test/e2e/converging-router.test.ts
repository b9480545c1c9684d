/**
 * Routing by endpoint and waiting for a router that settles eventually, end to end in the test
 * process: real store, real process platform whose slots stand as `test-group` endpoints, and
 * the real builtin proxy behind a SettlingRouter (a stand-in for a cloud load balancer, which
 * cannot run here; see test/support/settling-router.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeploymentEvent } from '../../src/shared/events.js';
import { otherSlot, type Slot } from '../../src/shared/slot.js';
import { startSettlingEngine, type SettlingEngine } from '../support/settling-engine.js';
import { CutoverHarness } from './harness.js';
import { deployToStandby, servedBy, waitForPhase } from './in-process-engine.js';

const SETTLE_TIMEOUT_MS = 1_500;

void describe('an endpoint platform behind a router that settles eventually', () => {
  let harness: CutoverHarness;
  let app: SettlingEngine;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {}, v3: {}, v4: {} } });
    app = await startSettlingEngine(harness.configFile, { groups: true, settleTimeoutMs: SETTLE_TIMEOUT_MS });
  });
  after(async () => {
    await app?.close();
    await harness?.teardown();
  });

  async function assertServedOnly(release: string): Promise<void> {
    for (let i = 0; i < 10; i += 1) assert.equal(await servedBy(harness.trafficUrl), release);
  }

  function readBacks(id: string): Array<Extract<DeploymentEvent, { type: 'read-back' }>> {
    return app.engine.events.history(id).flatMap((event) => (event.type === 'read-back' ? [event] : []));
  }

  async function liveSlot(): Promise<Slot> {
    const live = (await app.store.getRouting('e2e'))?.liveSlot;
    assert.ok(live, 'a slot is live');
    return live;
  }

  void it('EndpointPlatform_EachSlotIsRoutedByItsGroup_AndTheRoutingStateRecordsTheEndpoints', async () => {
    await deployToStandby(app, 'v1');
    assert.equal((await app.store.getRouting('e2e'))?.endpoints?.blue?.id, 'e2e-blue');
    await assertServedOnly('v1');

    await deployToStandby(app, 'v2');
    const routing = await app.store.getRouting('e2e');
    assert.deepEqual(
      { blue: routing?.endpoints?.blue?.id, green: routing?.endpoints?.green?.id },
      { blue: 'e2e-blue', green: 'e2e-green' },
      'the old slot keeps its group while it stands by',
    );
    // The router routes by group only: v2 is served because the engine passed green's group.
    await assertServedOnly('v2');
    assert.equal(routing?.readBack?.kind, 'verified');
  });

  void it('ConvergingThenObserved_TheMoveIsDone_AndProgressSaysWhatTheRouterShows', async () => {
    app.router.settleAfter = () => 3;
    try {
      const record = await deployToStandby(app, 'v3');
      assert.equal(record.phase, 'standby');
      const states = readBacks(record.id).map((event) => event.state);
      assert.ok(states.includes('converging') && states.includes('settled'), states.join(','));
      const waiting = readBacks(record.id).find((event) => event.state === 'converging');
      assert.match(waiting?.detail ?? '', /^waiting for router to settle: 2 of 4 load balancer nodes/);
      assert.equal((await app.store.getRouting('e2e'))?.readBack?.kind, 'verified');
      await assertServedOnly('v3');
    } finally {
      app.router.settleAfter = () => 0;
    }
  });

  void it('ConvergingPastTheSettleTimeout_FailsTheMoveWithVerify_AndTrafficGoesBackToTheOldSlot', async () => {
    const newSlot = otherSlot(await liveSlot());
    // Every move that puts weight on the new slot stays unsettled; the move back settles at once.
    app.router.settleAfter = (weights) => (weights[newSlot] > 0 ? Infinity : 0);
    try {
      const { deployment } = await app.engine.deploy('v4', 'test');
      const record = await waitForPhase(app.store, deployment.id, ['aborted', 'standby'], 60_000);
      assert.equal(record.phase, 'aborted');
      assert.equal(record.reason?.code, 'CUTOVER_E_VERIFY');
      assert.match(record.reason?.message ?? '', /did not settle within 1.5s/);
      assert.equal(await liveSlot(), otherSlot(newSlot));
      await assertServedOnly('v3');
      assert.equal(
        (await app.store.getRouting('e2e'))?.readBack?.kind,
        'verified',
        'the move back was read back',
      );
    } finally {
      app.router.settleAfter = () => 0;
    }
  });
});
