/**
 * The TrafficController's order of operations: instances go into the router before weights
 * move onto them and leave only after weights have moved off them, so no intermediate router
 * state sends traffic to a slot with no instances (invariant 1). Found by aborting a deploy at
 * a 50 % step through Varnish, which refuses such a state: the abort emptied the new slot
 * before moving its 50 % back. Runs against the real builtin router and a real SQLite store;
 * a thin wrapper records what the router was asked, in order.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { silentLogger } from '../../src/shared/logger.js';
import { weightsAllOn, type SlotTargets, type Weights } from '../../src/shared/slot.js';
import { TrafficController } from '../../src/engine/traffic.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { DeploymentEvents, type DeploymentEvent } from '../../src/shared/events.js';
import type { SlotEndpoints } from '../../src/shared/slot.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { SettlingRouter, testGroup } from '../support/settling-router.js';
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
    traffic = new TrafficController('web', store, router, silentLogger, {
      events: new DeploymentEvents(),
      now: () => new Date(),
      settleTimeoutMs: 60_000,
    });
    backends = await startBlueGreenBackends();
    targets = backends.targets;
  });

  after(async () => {
    await builtin?.close();
    await backends?.close();
    await store?.close();
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

  void it('AMoveQueuedBehindAnother_StartsFromTheRoutingTheFirstLeft', async () => {
    await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets,
      releases: { blue: 'v1', green: 'v2' },
    });
    router.forget();

    // Both asked in the same turn: the second reads the routing only once the first has moved
    // it, so emptying blue keeps the weights on green instead of putting them back on blue.
    const toGreen = traffic.moveWeights(weightsAllOn('green'), 'green');
    const retireBlue = traffic.setTargets('blue', []);
    await Promise.all([toGreen, retireBlue]);

    const routing = await store.getRouting('web');
    assert.equal(routing?.liveSlot, 'green');
    assert.deepEqual(routing?.weights, weightsAllOn('green'));
    assert.deepEqual(routing?.targets, { blue: [], green: targets.green });
    assert.deepEqual(router.violations, []);
    assert.deepEqual(
      router.calls.filter((call) => call.kind === 'setWeights'),
      [
        { kind: 'setWeights', weights: weightsAllOn('green') },
        { kind: 'setWeights', weights: weightsAllOn('green') },
      ],
    );
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

type EndpointCall =
  | { kind: 'prepare'; endpoints: Partial<Record<'blue' | 'green', string>> }
  | { kind: 'setWeights'; weights: Weights };

void describe('TrafficController with a router that routes to endpoints and settles eventually', () => {
  let dir: string;
  let store: Store;
  let builtin: BuiltinRouter;
  let settling: SettlingRouter;
  let events: DeploymentEvents;
  let publicUrl: string;
  let backends: BlueGreenBackends | undefined;
  const calls: EndpointCall[] = [];
  const violations: string[] = [];

  /** The controller over the settling router (behind the guard), recording what it is asked. */
  function controller(settleTimeoutMs: number): TrafficController {
    let endpoints: SlotEndpoints = {};
    let weights: Weights = { blue: 100, green: 0 };
    const check = (after: string): void => {
      for (const slot of ['blue', 'green'] as const) {
        if (weights[slot] > 0 && endpoints[slot] === undefined && Object.keys(endpoints).length > 0)
          violations.push(`after ${after}: ${slot} has ${weights[slot]}% and no endpoint`);
      }
    };
    const recorder: Router = Object.assign(Object.create(settling) as Router, {
      describe: () => settling.describe(),
      prepare: async (next: SlotTargets, nextEndpoints: SlotEndpoints = {}) => {
        calls.push({
          kind: 'prepare',
          endpoints: Object.fromEntries(Object.entries(nextEndpoints).map(([slot, e]) => [slot, e.id])),
        });
        await settling.prepare(next, nextEndpoints);
        endpoints = nextEndpoints;
        check('prepare');
      },
      setWeights: async (next: Weights) => {
        calls.push({ kind: 'setWeights', weights: next });
        await settling.setWeights(next);
        weights = next;
        check('setWeights');
      },
      verify: () => settling.verify(),
    });
    return new TrafficController('web', store, guardRouter(recorder), silentLogger, {
      events,
      now: () => new Date(),
      settleTimeoutMs,
    });
  }

  function readBackEvents(): Array<Extract<DeploymentEvent, { type: 'read-back' }>> {
    return events.history().flatMap((event) => (event.type === 'read-back' ? [event] : []));
  }

  before(async () => {
    dir = await makeTempDir('traffic-endpoints');
    store = openSqliteStore(path.join(dir, 'state.db'));
    builtin = createBuiltinRouter(builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }), {
      logger: silentLogger,
    });
    await builtin.open();
    publicUrl = `http://127.0.0.1:${builtin.address().live.port}/`;
    settling = new SettlingRouter(guardRouter(builtin), { routesBy: 'endpoint' });
    backends = await startBlueGreenBackends();
  });

  beforeEach(() => {
    events = new DeploymentEvents();
    calls.length = 0;
    violations.length = 0;
    settling.settleAfter = () => 0;
  });

  after(async () => {
    await builtin?.close();
    await backends?.close();
    await store?.close();
    await removeTempDir(dir);
  });

  void it('EndpointStaging_AddsTheEndpointBeforeWeightsMoveOntoItAndRemovesTheOldOneAfter', async () => {
    const traffic = controller(60_000);
    const blue = testGroup('web-blue', backends!.targets.blue);
    const green = testGroup('web-green', backends!.targets.green);
    // Slots of an endpoint platform: the router knows each slot by its group only.
    const noInstances = { blue: [], green: [] };
    await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets: noInstances,
      releases: { blue: 'v1' },
      endpoints: { blue },
    });
    calls.length = 0;

    await traffic.apply({
      liveSlot: 'green',
      weights: weightsAllOn('green'),
      targets: noInstances,
      releases: { green: 'v2' },
      endpoints: { green },
    });

    assert.deepEqual(calls, [
      { kind: 'prepare', endpoints: { blue: 'web-blue', green: 'web-green' } },
      { kind: 'setWeights', weights: weightsAllOn('green') },
      { kind: 'prepare', endpoints: { green: 'web-green' } },
    ]);
    assert.deepEqual(violations, []);
    assert.deepEqual((await store.getRouting('web'))?.endpoints, { green });
    assert.deepEqual((await store.getRouting('web'))?.readBack?.kind, 'verified');
    assert.deepEqual(new Set(await sample(publicUrl, 10)), new Set(['green-1']), 'served through the group');
  });

  void it('ConvergingReadBack_IsAskedAgainUntilObserved_ThenTheMoveIsVerified', async () => {
    const traffic = controller(60_000);
    const endpoints = {
      blue: testGroup('web-blue', backends!.targets.blue),
      green: testGroup('web-green', backends!.targets.green),
    };
    const noInstances = { blue: [], green: [] };
    await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets: noInstances,
      releases: {},
      endpoints,
    });
    settling.settleAfter = () => 3;
    const before = settling.convergingReads;

    const observed = await traffic.apply(
      { liveSlot: 'green', weights: weightsAllOn('green'), targets: noInstances, releases: {}, endpoints },
      { deploymentId: 'd-converging' },
    );

    assert.equal(observed.kind, 'observed');
    assert.equal(settling.convergingReads - before, 3, 'asked again while converging');
    assert.equal((await store.getRouting('web'))?.readBack?.kind, 'verified');
    const states = readBackEvents().map((event) => [event.deploymentId, event.state]);
    assert.deepEqual(states, [
      ['d-converging', 'converging'],
      ['d-converging', 'settled'],
    ]);
    assert.match(readBackEvents()[0]!.detail, /^waiting for router to settle: 2 of 4 load balancer nodes/);
  });

  void it('ConvergingPastTheSettleTimeout_FailsTheMoveWithVerify_AndTheStoreSaysItNeverSettled', async () => {
    const traffic = controller(400);
    const endpoints = {
      blue: testGroup('web-blue', backends!.targets.blue),
      green: testGroup('web-green', backends!.targets.green),
    };
    const noInstances = { blue: [], green: [] };
    await traffic.apply({
      liveSlot: 'blue',
      weights: weightsAllOn('blue'),
      targets: noInstances,
      releases: {},
      endpoints,
    });
    settling.settleAfter = () => Infinity;

    await assert.rejects(
      traffic.apply({
        liveSlot: 'green',
        weights: weightsAllOn('green'),
        targets: noInstances,
        releases: {},
        endpoints,
      }),
      (error: unknown) =>
        isCutoverError(error, 'CUTOVER_E_VERIFY') && /did not settle within 400ms/.test(error.message),
    );
    const readBack = (await store.getRouting('web'))?.readBack;
    assert.equal(readBack?.kind, 'converging');
    assert.equal(
      readBackEvents().filter((event) => event.state === 'converging').length,
      1,
      'one event per new sight',
    );
  });

  void it('AConvergingWait_EndsWhenItsSignalAborts', async () => {
    const traffic = controller(60_000);
    const endpoints = {
      blue: testGroup('web-blue', backends!.targets.blue),
      green: testGroup('web-green', backends!.targets.green),
    };
    const noInstances = { blue: [], green: [] };
    settling.settleAfter = () => Infinity;
    const stop = new AbortController();
    const move = traffic.apply(
      { liveSlot: 'blue', weights: weightsAllOn('blue'), targets: noInstances, releases: {}, endpoints },
      { signal: stop.signal },
    );
    await waitForEvent(events, 'converging');
    stop.abort(new Error('shutting down'));
    await assert.rejects(move, /shutting down/);
    assert.equal(
      (await store.getRouting('web'))?.readBack?.kind,
      'converging',
      'left journaled, not verified',
    );
  });
});

function waitForEvent(events: DeploymentEvents, state: 'converging' | 'settled'): Promise<void> {
  return new Promise((resolve) => {
    const seen = events.history().some((event) => event.type === 'read-back' && event.state === state);
    if (seen) return resolve();
    const unsubscribe = events.subscribe((event) => {
      if (event.type !== 'read-back' || event.state !== state) return;
      unsubscribe();
      resolve();
    });
  });
}
