/**
 * The routing invariants are enforced once, above every router (src/routers/guarded-router.ts).
 * Each case makes the same bad move against all five routers, each on its real data plane,
 * and checks that it is refused with the same error code and that the data plane still does
 * what it did before (verify reads back the previous weights, live traffic stays on blue).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { isCutoverError, type ErrorCode } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { weightsAllOn, type Weights } from '../../src/shared/slot.js';
import { createBuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import type { Router } from '../../src/shared/router.js';
import { startCaddyHarness } from '../support/daemons/caddy.js';
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { startVarnishHarness } from '../support/daemons/varnish.js';
import { startBlueGreenBackends, type BlueGreenBackends } from './blue-live-pair.js';
import { sample, slotOfBody, type RouterHarness } from './contract.js';

const CASE_TIMEOUT_MS = 60_000;

/** The builtin router's data plane is this process: its "daemon" is its own listener. */
async function startBuiltinHarness(): Promise<RouterHarness> {
  const router = createBuiltinRouter(builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }), {
    logger: silentLogger,
  });
  await router.open();
  return {
    router,
    publicUrl: `http://127.0.0.1:${router.address().live.port}`,
    stopDaemon: () => router.close(),
    startDaemon: () => router.open(),
    restartDaemon: async () => {
      await router.close();
      await router.open();
    },
    teardown: () => router.close(),
  };
}

const ROUTERS: readonly (readonly [string, () => Promise<RouterHarness>])[] = [
  ['builtin', startBuiltinHarness],
  ['nginx', () => startNginxHarness()],
  ['haproxy', () => startHaproxyHarness()],
  ['varnish', () => startVarnishHarness()],
  ['caddy', () => startCaddyHarness()],
];

for (const [name, setup] of ROUTERS) {
  void describe(`invariant guards: ${name}`, () => {
    let harness: RouterHarness;
    let router: Router;
    let pair: BlueGreenBackends;

    before(async () => {
      pair = await startBlueGreenBackends();
      harness = await setup();
      router = guardRouter(harness.router);
      await router.open();
    });

    after(async () => {
      await router?.close();
      await harness?.teardown();
      await pair?.close();
    });

    /** Both slots prepared, all live traffic on blue. */
    const blueLive = async (): Promise<void> => {
      await router.prepare(pair.targets);
      await router.setWeights(weightsAllOn('blue'));
    };

    /** Blue prepared and live, green with no instances. */
    const blueLiveGreenEmpty = async (): Promise<void> => {
      await blueLive();
      await router.prepare({ blue: pair.targets.blue, green: [] });
    };

    const refusedWith = async (move: Promise<unknown>, code: ErrorCode): Promise<void> => {
      await assert.rejects(move, (error: unknown) => {
        assert.ok(isCutoverError(error, code), `${name}: expected ${code}, got ${String(error)}`);
        return true;
      });
    };

    /** The data plane did not move: verify reads back blue 100 % and live traffic answers blue. */
    const assertStillBlue = async (what: string): Promise<void> => {
      const seen = await router.verify();
      if (seen.kind === 'observed') {
        assert.deepEqual(
          { blue: seen.weights.blue, green: seen.weights.green },
          weightsAllOn('blue'),
          `${what}: verify reads back the previous weights`,
        );
      } else {
        assert.equal(seen.kind, 'unverifiable', 'a daemon router settles at once: never converging');
        assert.equal(
          router.describe().capabilities.verifiable,
          false,
          seen.kind === 'unverifiable' ? seen.reason : '',
        );
      }
      const bodies = await sample(harness.publicUrl, 10);
      assert.deepEqual(
        bodies.filter((body) => slotOfBody(body) !== 'blue'),
        [],
        `${what}: live traffic stays on blue`,
      );
    };

    void it(
      'InvalidWeights_FractionalOrNotSummingTo100_RefusedWithInvalidWeights_DataPlaneUnchanged',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        const bad: Weights[] = [
          { blue: 50.5, green: 49.5 },
          { blue: 60, green: 50 },
          { blue: -10, green: 110 },
          { blue: Number.NaN, green: 100 },
        ];
        for (const weights of bad) {
          await refusedWith(router.setWeights(weights), 'CUTOVER_E_INVALID_WEIGHTS');
        }
        await assertStillBlue('after refused weights');
      },
    );

    void it(
      'WeightOnSlotWithNoInstances_RefusedWithEmptySlot_DataPlaneUnchanged',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLiveGreenEmpty();
        await refusedWith(router.setWeights(weightsAllOn('green')), 'CUTOVER_E_EMPTY_SLOT');
        await refusedWith(router.setWeights({ blue: 50, green: 50 }), 'CUTOVER_E_EMPTY_SLOT');
        await assertStillBlue('after a refused move onto an empty slot');
        // Keeping the share blue already has is no move onto an empty slot.
        await router.setWeights(weightsAllOn('blue'));
        await router.prepare(pair.targets);
      },
    );

    void it(
      'PreviewOfSlotWithNoInstances_RefusedWithEmptySlot_DataPlaneUnchanged',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLiveGreenEmpty();
        await refusedWith(router.preview('green'), 'CUTOVER_E_EMPTY_SLOT');
        await assertStillBlue('after a refused preview');
        await router.prepare(pair.targets);
      },
    );

    void it(
      'CleanupOfSlotTakingLiveTraffic_RefusedWithSlotLive_DataPlaneUnchanged',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        await refusedWith(router.cleanup('blue'), 'CUTOVER_E_SLOT_LIVE');
        await assertStillBlue('after a refused cleanup');
        const seen = await router.verify();
        if (seen.kind === 'observed' && seen.targets !== undefined) {
          assert.equal(seen.targets.blue.length, 1, 'blue keeps its instance');
        }
      },
    );

    void it(
      'PrepareTakingTheLastInstanceOfTheLiveSlot_RefusedWithSlotLive_DataPlaneUnchanged',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        await refusedWith(router.prepare({ blue: [], green: pair.targets.green }), 'CUTOVER_E_SLOT_LIVE');
        await assertStillBlue('after a refused prepare');
      },
    );

    void it(
      'PrepareWithAnEndpointOfAKindTheRouterDoesNotList_RefusedWithEndpointKind_DataPlaneUnchanged',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        assert.deepEqual(
          router.describe().capabilities.endpointKinds ?? [],
          [],
          `${name} takes instances only`,
        );
        const group = { kind: 'aws-asg', id: 'shop-green' };
        await refusedWith(router.prepare(pair.targets, { green: group }), 'CUTOVER_E_ENDPOINT_KIND');
        await assertStillBlue('after a refused endpoint');
        await router.prepare(pair.targets);
      },
    );

    void it(
      'Lifecycle_OpenAndCloseTwice_CallsAfterCloseRefusedWithRouterClosed_ReopenServesTheLastState',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        // One mutex serializes moves: fired together, they apply in call order and the last wins.
        await Promise.all([
          router.setWeights(weightsAllOn('green')),
          router.setWeights(weightsAllOn('blue')),
          router.setWeights(weightsAllOn('green')),
          router.setWeights(weightsAllOn('blue')),
        ]);
        await router.open();
        await Promise.all([router.close(), router.close()]);
        await router.close();
        await refusedWith(router.setWeights(weightsAllOn('green')), 'CUTOVER_E_ROUTER_CLOSED');
        await refusedWith(router.prepare(pair.targets), 'CUTOVER_E_ROUTER_CLOSED');
        await refusedWith(router.preview('green'), 'CUTOVER_E_ROUTER_CLOSED');
        await refusedWith(router.verify(), 'CUTOVER_E_ROUTER_CLOSED');
        await refusedWith(router.cleanup('green'), 'CUTOVER_E_ROUTER_CLOSED');
        await router.open();
        await router.open();
        await assertStillBlue('after close and open again');
      },
    );
  });
}

void describe('invariant guards: unverifiable read-backs', () => {
  void it('VerifiableRouterAnsweringUnverifiable_GetsVerifyError', async () => {
    // The builtin router declares verifiable; before any weights its proxy has none to read back.
    const harness = await startBuiltinHarness();
    const router = guardRouter(harness.router);
    try {
      await router.open();
      assert.equal(router.describe().capabilities.verifiable, true);
      assert.equal(
        (await harness.router.verify()).kind,
        'unverifiable',
        'the router itself answers unverifiable',
      );
      await assert.rejects(router.verify(), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_VERIFY'), String(error));
        assert.match((error as Error).message, /declares verifiable/);
        return true;
      });
    } finally {
      await router.close();
      await harness.teardown();
    }
  });

  void it('RouterDeclaringNotVerifiable_MayAnswerUnverifiable', { timeout: CASE_TIMEOUT_MS }, async () => {
    const harness = await startNginxHarness();
    const router = guardRouter(harness.router);
    const pair = await startBlueGreenBackends();
    try {
      await router.open();
      assert.equal(router.describe().capabilities.verifiable, false, 'nginx reload mode cannot read back');
      await router.prepare(pair.targets);
      await router.setWeights(weightsAllOn('blue'));
      // As if the include file changed after nginx loaded it: the router says it cannot tell.
      const later = new Date(Date.now() + 5000);
      await utimes(harness.includeFile, later, later);
      const seen = await router.verify();
      assert.equal(seen.kind, 'unverifiable');
    } finally {
      await router.close();
      await harness.teardown();
      await pair.close();
    }
  });
});
