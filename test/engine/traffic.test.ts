/**
 * The TrafficController's order of operations: instances go into the router before weights
 * move onto them and leave only after weights have moved off them, so no intermediate router
 * state sends traffic to a slot with no instances (invariant 1). Found by aborting a deploy at
 * a 50 % step through Varnish, which refuses such a state: the abort emptied the new slot
 * before moving its 50 % back. Runs against the real builtin router and a real SQLite store;
 * a thin wrapper records what the router was asked, in order.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { silentLogger } from '../../src/shared/logger.js';
import { weightsAllOn, type SlotTargets, type Weights } from '../../src/shared/slot.js';
import { TrafficController } from '../../src/engine/traffic.js';
import { createBuiltinRouter, type BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import type { Router } from '../../src/shared/router.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/shared/store.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';
import { startBlueGreenBackends, type BlueGreenBackends } from '../routers/blue-live-pair.js';
import { sample } from '../routers/contract.js';

type Call = { kind: 'prepare'; targets: SlotTargets } | { kind: 'setWeights'; weights: Weights };

interface RecordingRouter extends Router {
  readonly calls: Call[];
  /** Router states (after each call) in which a slot with weight had no instances. */
  readonly violations: string[];
  /** Forgets the calls and violations recorded so far. */
  forget(): void;
}

/** Passes every call to `router`, recording prepare/setWeights and checking invariant 1 after each. */
function recording(router: Router): RecordingRouter {
  const calls: Call[] = [];
  const violations: string[] = [];
  let targets: SlotTargets = { blue: [], green: [] };
  let weights: Weights = { blue: 100, green: 0 };
  const check = (after: string): void => {
    for (const slot of ['blue', 'green'] as const) {
      if (weights[slot] > 0 && targets[slot].length === 0)
        violations.push(`after ${after}: ${slot} has ${weights[slot]}% and no instances`);
    }
  };
  return Object.assign(Object.create(router) as Router, {
    calls,
    violations,
    forget: () => {
      calls.length = 0;
      violations.length = 0;
    },
    prepare: async (next: SlotTargets) => {
      calls.push({ kind: 'prepare', targets: next });
      await router.prepare(next);
      targets = next;
      check('prepare');
    },
    setWeights: async (next: Weights) => {
      calls.push({ kind: 'setWeights', weights: next });
      await router.setWeights(next);
      weights = next;
      check('setWeights');
    },
  });
}

void describe('TrafficController', () => {
  let dir: string;
  let store: Store;
  let builtin: BuiltinRouter;
  let router: RecordingRouter;
  let traffic: TrafficController;
  let publicUrl: string;
  let backends: BlueGreenBackends | undefined;
  let targets: SlotTargets;

  before(async () => {
    dir = await makeTempDir('traffic');
    store = openSqliteStore(path.join(dir, 'state.db'));
    builtin = createBuiltinRouter(builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }), {
      logger: silentLogger,
    });
    await builtin.open();
    publicUrl = `http://127.0.0.1:${builtin.address().live.port}/`;
    router = recording(builtin);
    traffic = new TrafficController('web', store, router, silentLogger);
    backends = await startBlueGreenBackends();
    targets = backends.targets;
  });

  after(async () => {
    await builtin?.close();
    await backends?.close();
    store?.close();
    await removeTempDir(dir);
  });

  void it('AbortAtAWeightedStep_MovesWeightsBackBeforeEmptyingTheNewSlot', async () => {
    await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets: { blue: targets.blue, green: [] },
      releases: { blue: 'v1' },
    });
    await traffic.apply({
      liveSlot: 'blue',
      weights: { blue: 50, green: 50 },
      targets,
      releases: { blue: 'v1', green: 'v2' },
    });
    router.forget();

    const observed = await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets: { blue: targets.blue, green: [] },
      releases: { blue: 'v1' },
    });

    assert.deepEqual(router.violations, []);
    assert.deepEqual(
      router.calls.map((call) => call.kind),
      ['prepare', 'setWeights', 'prepare'],
      'instances kept, weights moved, then the slot emptied',
    );
    assert.deepEqual(router.calls[0], { kind: 'prepare', targets });
    assert.deepEqual(router.calls.at(-1), { kind: 'prepare', targets: { blue: targets.blue, green: [] } });
    assert.equal(observed.kind, 'observed');
    if (observed.kind === 'observed') assert.deepEqual(observed.weights, weightsAllOn('blue'));
    assert.deepEqual(new Set(await sample(publicUrl, 10)), new Set(['blue-1']));
  });

  void it('AnOrdinaryMove_IsOnePrepareAndOneWeightChange', async () => {
    await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets,
      releases: { blue: 'v1', green: 'v2' },
    });
    router.forget();

    await traffic.moveWeights(weightsAllOn('green'), 'green');

    assert.deepEqual(
      router.calls.map((call) => call.kind),
      ['prepare', 'setWeights'],
    );
    assert.deepEqual(router.violations, []);
    assert.deepEqual(new Set(await sample(publicUrl, 10)), new Set(['green-1']));
  });

  void it('RetiringASlotWithNoWeight_EmptiesItAtOnce', async () => {
    await traffic.apply({
      liveSlot: 'green',
      weights: weightsAllOn('green'),
      targets,
      releases: { blue: 'v1', green: 'v2' },
    });
    router.forget();

    await traffic.setTargets('blue', []);

    assert.deepEqual(router.calls, [
      { kind: 'prepare', targets: { blue: [], green: targets.green } },
      { kind: 'setWeights', weights: weightsAllOn('green') },
    ]);
    assert.deepEqual(router.violations, []);
  });
});
