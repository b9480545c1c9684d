/**
 * The Router contract: every router runs these cases against its real daemon (hono's
 * `runTest({ newRouter })` idea). A router file calls
 *
 *   runRouterContract('nginx', async () => startNginxHarness());
 *
 * and gets one `describe` block. The suite owns the backends: four version backends
 * (test/support/backend.ts) answering `blue-1`, `blue-2`, `green-1`, `green-2`, so the body of
 * every response names the slot that served it. The harness owns the daemon:
 *
 * - `router`: the router under test, created but not opened (the suite calls open/close).
 * - `publicUrl`: where live traffic enters the daemon (no preview header).
 * - `stopDaemon` / `startDaemon` / `restartDaemon`: stop it, start it again from the config on
 *   disk (whatever the router wrote there), or both.
 * - `editConfigByHand(weights)` (optional): make the daemon serve `weights` behind the router's
 *   back, the way an operator with a text editor or a runtime socket would.
 * - `rejectNextConfig()` (optional): make the daemon refuse the next change the router tries
 *   (e.g. break the main config so `nginx -t` fails); returns a function that undoes it.
 * - `teardown()`: stop the daemon and remove its temp dir.
 *
 * Every case starts from "blue live, both slots prepared", so cases do not depend on order.
 * A capability the router declares it lacks is tested as a refusal, not skipped. A router whose
 * data plane runs inside this process (`inProcess`) has no config file to edit by hand or to
 * make its daemon refuse, so those two cases are not registered for it; every other router's
 * harness must provide both hooks, or those cases fail.
 * Invariant checked throughout: traffic never lands on a slot other than the one asked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { isCutoverError } from '../../src/shared/errors.js';
import { otherSlot, weightsAllOn, type Slot, type SlotTargets, type Weights } from '../../src/shared/slot.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import type { DrainStatus, Router, RouterObservation } from '../../src/shared/router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { waitFor } from '../support/load.js';

export interface RouterHarness {
  router: Router;
  publicUrl: string;
  restartDaemon(): Promise<void>;
  stopDaemon(): Promise<void>;
  startDaemon(): Promise<void>;
  editConfigByHand?(weights: Weights): Promise<void>;
  rejectNextConfig?(): Promise<() => Promise<void>>;
  teardown(): Promise<void>;
}

const CASE_TIMEOUT_MS = 60_000;
/** Consecutive requests that must all reach the asked slot after a switch resolves. */
const SWITCH_SAMPLE = 50;
const WEIGHTED_SAMPLE = 400;
/** Allowed distance from the asked share in a weighted split, in percentage points. */
const WEIGHTED_TOLERANCE = 10;

export interface ContractOptions {
  /** The data plane is this process (the builtin router): no daemon config exists outside it. */
  readonly inProcess?: boolean;
}

export function runRouterContract(
  name: string,
  setup: () => Promise<RouterHarness>,
  options: ContractOptions = {},
): void {
  void describe(`Router contract: ${name}`, () => {
    let harness: RouterHarness | undefined;
    const backends: VersionBackend[] = [];
    let targets: SlotTargets = { blue: [], green: [] };

    const h = (): RouterHarness => {
      if (harness === undefined) throw new Error('harness not set up');
      return harness;
    };
    /** The router as cutover runs it: behind the guard layer createRouter puts above every router. */
    let guarded: Router | undefined;
    const g = (): Router => {
      if (guarded === undefined) throw new Error('harness not set up');
      return guarded;
    };

    /** Every case starts here: both slots prepared, all live traffic on blue. */
    const blueLive = async (): Promise<void> => {
      await g().prepare(targets);
      await g().setWeights(weightsAllOn('blue'));
    };

    before(async () => {
      for (const version of ['blue-1', 'blue-2', 'green-1', 'green-2']) {
        backends.push(await startVersionBackend(version));
      }
      const targetsOf = (slot: Slot) =>
        backends
          .filter((backend) => slotOfBody(backend.version) === slot)
          .map((backend) => ({ id: backend.version, host: '127.0.0.1', port: backend.port }));
      targets = { blue: targetsOf('blue'), green: targetsOf('green') };
      harness = await setup();
      guarded = guardRouter(harness.router);
      await guarded.open();
    });

    after(async () => {
      if (harness !== undefined) {
        await g().close();
        await harness.teardown();
      }
      await Promise.all(backends.map((backend) => backend.close()));
    });

    void it(
      'prepare sets both slots without moving traffic, and is idempotent',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        await g().prepare(targets);
        assertAllOn('blue', await sample(h().publicUrl, 40));
        const seen = new Set(await sample(h().publicUrl, 40));
        assert.deepEqual(
          [...seen].sort(),
          ['blue-1', 'blue-2'],
          'live traffic reaches every instance of the live slot',
        );
        assertObservationTargets(await g().verify(), targets);
      },
    );

    void it(
      'preview reaches only the idle slot, and live traffic does not',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { capabilities } = g().describe();
        await blueLive();
        if (capabilities.preview === 'none') {
          await assert.rejects(g().preview('green'), `${name} declares preview: none`);
          return;
        }
        const route = await g().preview('green');
        assert.equal(route.slot, 'green');
        assertAllOn('green', await sample(route.url, 40, route.headers), 'preview route');
        assertAllOn('blue', await sample(h().publicUrl, 40), 'live traffic while a preview is open');
      },
    );

    void it(
      'atomic switch: once setWeights resolves, every new request answers the new slot',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        const watcher = watchTraffic(h().publicUrl);
        try {
          let live: Slot = 'blue';
          let previousResolvedAt = 0;
          for (let round = 0; round < 4; round++) {
            const next = otherSlot(live);
            const issuedAt = performance.now();
            await g().setWeights(weightsAllOn(next));
            const resolvedAt = performance.now();
            assertAllOn(
              next,
              await sample(h().publicUrl, SWITCH_SAMPLE),
              `round ${round} after the switch resolved`,
            );
            watcher.assertOnly(live, previousResolvedAt, issuedAt);
            watcher.assertOnly(next, resolvedAt, performance.now());
            previousResolvedAt = resolvedAt;
            live = next;
          }
        } finally {
          await watcher.stop();
        }
      },
    );

    void it('weighted steps split new requests by weight', { timeout: CASE_TIMEOUT_MS }, async () => {
      const { capabilities } = g().describe();
      if (!capabilities.weighted) {
        // It declares that it only takes {0,100} and {100,0}: a split must be refused, and
        // live traffic must not move.
        await blueLive();
        await assert.rejects(g().setWeights({ blue: 70, green: 30 }), (error: unknown) => {
          assert.ok(
            isCutoverError(error, 'CUTOVER_E_ROUTER'),
            `${name} declares weighted: false; expected CUTOVER_E_ROUTER, got ${String(error)}`,
          );
          return true;
        });
        assertAllOn('blue', await sample(h().publicUrl, 40), 'live traffic after a refused split');
        return;
      }
      await blueLive();
      for (const weights of [
        { blue: 70, green: 30 },
        { blue: 30, green: 70 },
      ]) {
        await g().setWeights(weights);
        const bodies = await sample(h().publicUrl, WEIGHTED_SAMPLE);
        const greenShare =
          (100 * bodies.filter((body) => slotOfBody(body) === 'green').length) / bodies.length;
        assert.ok(
          Math.abs(greenShare - weights.green) <= WEIGHTED_TOLERANCE,
          `asked green ${weights.green}%, got ${greenShare.toFixed(1)}% over ${bodies.length} requests`,
        );
        assertObservedWeights(await g().verify(), weights, capabilities.verifiable);
      }
      await g().setWeights(weightsAllOn('green'));
      assertAllOn('green', await sample(h().publicUrl, SWITCH_SAMPLE), 'after the last step');
    });

    void it(
      'verify reads back what was asked, or says why it cannot',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { capabilities } = g().describe();
        await blueLive();
        assertObservedWeights(await g().verify(), weightsAllOn('blue'), capabilities.verifiable);
        await g().setWeights(weightsAllOn('green'));
        assertObservedWeights(await g().verify(), weightsAllOn('green'), capabilities.verifiable);
      },
    );

    void it(
      'drainStatus counts what is in flight, or says why it cannot',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { capabilities } = g().describe();
        await blueLive();
        await g().setWeights(weightsAllOn('green'));
        await g().drain('blue', { deadline: new Date(Date.now() + 5000) });
        assertAllOn('green', await sample(h().publicUrl, 20), 'live traffic while blue drains');
        const status = await g().drainStatus('blue');
        if (!capabilities.drainCounts) {
          assert.equal(status.kind, 'unknown', 'drainCounts: false routers answer unknown');
          return;
        }
        assert.equal(status.kind, 'counted', 'drainCounts: true routers count');
        let last: DrainStatus = status;
        await waitFor(
          async () => {
            last = await g().drainStatus('blue');
            return last.kind === 'counted' && last.inFlight === 0;
          },
          { timeoutMs: 10_000, what: 'blue to have nothing in flight' },
        );
        assert.ok(last.kind === 'counted' && Number.isInteger(last.connections) && last.connections >= 0);
      },
    );

    void it(
      'cleanup forgets the idle slot and leaves live traffic alone',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        await g().cleanup('green');
        await g().cleanup('green');
        assertAllOn('blue', await sample(h().publicUrl, 40), 'live traffic after cleanup of the idle slot');
        assertObservationTargets(await g().verify(), { blue: targets.blue, green: [] });
      },
    );

    void it('state survives a daemon restart', { timeout: CASE_TIMEOUT_MS }, async () => {
      const { capabilities } = g().describe();
      await blueLive();
      await g().setWeights(weightsAllOn('green'));
      await h().restartDaemon();
      assertAllOn('green', await sample(h().publicUrl, 40), 'live traffic after the daemon restarted');
      assertObservedWeights(await g().verify(), weightsAllOn('green'), capabilities.verifiable);
      await g().setWeights(weightsAllOn('blue'));
      assertAllOn('blue', await sample(h().publicUrl, 40), 'a switch after the restart');
    });

    // Registered only where a daemon config exists outside this process (see the header).
    const hasExternalDaemon = options.inProcess !== true;

    if (hasExternalDaemon)
      void it(
        'a hand edit is visible to verify and undone by the next setWeights',
        { timeout: CASE_TIMEOUT_MS },
        async () => {
          const edit = h().editConfigByHand?.bind(h());
          assert.ok(edit, `the ${name} harness must provide editConfigByHand`);
          await blueLive();
          await edit(weightsAllOn('green'));
          assertAllOn('green', await sample(h().publicUrl, 20), 'the hand edit took effect');
          const seen = await g().verify();
          if (seen.kind === 'observed') {
            assert.deepEqual(
              { blue: seen.weights.blue, green: seen.weights.green },
              weightsAllOn('green'),
              'verify must report what the daemon does now, not what the router last asked',
            );
          } else {
            assert.equal(seen.kind, 'unverifiable', 'a daemon router settles at once: never converging');
            assert.ok(seen.kind === 'unverifiable' && seen.reason.length > 0);
          }
          await g().setWeights(weightsAllOn('blue'));
          assertAllOn('blue', await sample(h().publicUrl, 40), 'setWeights restored what was asked');
        },
      );

    void it(
      'a daemon that is down gives CUTOVER_E_ROUTER, and the router works once it is back',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        await blueLive();
        await h().stopDaemon();
        try {
          await assert.rejects(g().setWeights(weightsAllOn('green')), (error: unknown) => {
            assert.ok(
              isCutoverError(error, 'CUTOVER_E_ROUTER'),
              `expected CUTOVER_E_ROUTER, got ${String(error)}`,
            );
            return true;
          });
          const seen = await h()
            .router.verify()
            .catch((error: unknown) => {
              assert.ok(
                isCutoverError(error, 'CUTOVER_E_ROUTER'),
                `verify: expected CUTOVER_E_ROUTER, got ${String(error)}`,
              );
              return undefined;
            });
          assert.notEqual(seen?.kind, 'observed', 'verify must not report a daemon that is down as serving');
        } finally {
          await h().startDaemon();
        }
        assertAllOn(
          'blue',
          await sample(h().publicUrl, 20),
          'after the daemon came back, the last applied state',
        );
        await g().setWeights(weightsAllOn('green'));
        assertAllOn('green', await sample(h().publicUrl, 40), 'a switch after the daemon came back');
      },
    );

    if (hasExternalDaemon)
      void it('a rejected change leaves the old config serving', { timeout: CASE_TIMEOUT_MS }, async () => {
        const reject = h().rejectNextConfig?.bind(h());
        assert.ok(reject, `the ${name} harness must provide rejectNextConfig`);
        const { capabilities } = g().describe();
        await blueLive();
        const undo = await reject();
        try {
          await assert.rejects(g().setWeights(weightsAllOn('green')), (error: unknown) => {
            assert.ok(
              isCutoverError(error, 'CUTOVER_E_ROUTER'),
              `expected CUTOVER_E_ROUTER, got ${String(error)}`,
            );
            return true;
          });
          assertAllOn('blue', await sample(h().publicUrl, 40), 'live traffic after a refused change');
        } finally {
          await undo();
        }
        assertObservedWeights(await g().verify(), weightsAllOn('blue'), capabilities.verifiable);
      });
  });
}

/** `blue-2` → `blue`. */
export function slotOfBody(body: string): Slot | 'other' {
  const prefix = body.split('-')[0];
  return prefix === 'blue' || prefix === 'green' ? prefix : 'other';
}

function assertAllOn(slot: Slot, bodies: readonly string[], what = 'live traffic'): void {
  const wrong = bodies.filter((body) => slotOfBody(body) !== slot);
  assert.equal(wrong.length, 0, `${what}: expected every response from ${slot}, got ${summarize(bodies)}`);
}

function summarize(bodies: readonly string[]): string {
  const counts: Record<string, number> = {};
  for (const body of bodies) counts[body] = (counts[body] ?? 0) + 1;
  return JSON.stringify(counts);
}

function assertObservedWeights(seen: RouterObservation, asked: Weights, verifiable: boolean): void {
  if (seen.kind === 'unverifiable') {
    assert.ok(!verifiable, `${seen.reason}: a router with verifiable: true must read back`);
    assert.ok(seen.reason.length > 0, 'unverifiable needs a reason');
    return;
  }
  assert.equal(seen.kind, 'observed', 'a daemon router settles at once: never converging');
  if (seen.kind !== 'observed') return;
  assert.deepEqual(
    { blue: seen.weights.blue, green: seen.weights.green },
    { blue: asked.blue, green: asked.green },
  );
}

function assertObservationTargets(seen: RouterObservation, expected: SlotTargets): void {
  if (seen.kind !== 'observed' || seen.targets === undefined) return;
  const addresses = (list: SlotTargets[Slot]) => list.map((target) => `${target.host}:${target.port}`).sort();
  assert.deepEqual(addresses(seen.targets.blue), addresses(expected.blue), 'blue targets read back');
  assert.deepEqual(addresses(seen.targets.green), addresses(expected.green), 'green targets read back');
}

/** One GET on a fresh connection (no keep-alive pool), so each answer reflects the config now. */
export function getOnce(
  url: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      { agent: false, headers: { ...headers, connection: 'close' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').trim() }),
        );
      },
    );
    request.setTimeout(5000, () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/** `n` sequential requests; every one must be a 2xx. Returns the bodies. */
export async function sample(
  url: string,
  n: number,
  headers: Readonly<Record<string, string>> = {},
): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const { status, body } = await getOnce(url, headers);
    assert.ok(status >= 200 && status < 300, `GET ${url} answered ${status}: ${body}`);
    bodies.push(body);
  }
  return bodies;
}

interface TrafficWatcher {
  /** Every request sent after `sentAfter` and answered before `answeredBefore` (performance.now() ms) came from `slot`. */
  assertOnly(slot: Slot, sentAfter: number, answeredBefore: number): void;
  stop(): Promise<void>;
}

/** A background loop of fresh-connection requests, each stamped with when it was sent and answered. */
function watchTraffic(url: string): TrafficWatcher {
  const seen: { sentAt: number; answeredAt: number; body: string }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sentAt = performance.now();
      const { body } = await getOnce(url).catch((error: unknown) => ({ body: `error: ${String(error)}` }));
      seen.push({ sentAt, answeredAt: performance.now(), body });
    }
  })();
  return {
    assertOnly(slot, sentAfter, answeredBefore) {
      const wrong = seen.filter(
        (entry) =>
          entry.sentAt > sentAfter && entry.answeredAt < answeredBefore && slotOfBody(entry.body) !== slot,
      );
      assert.equal(
        wrong.length,
        0,
        `requests that should all reach ${slot} went elsewhere: ${JSON.stringify(wrong.slice(0, 5))}`,
      );
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
