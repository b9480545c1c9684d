/**
 * The Router contract for routers whose slots are platform endpoints (Auto Scaling groups behind
 * one AWS balancer), beside the host:port contract (contract.ts), which sends HTTP requests
 * through the daemon and reads which slot answered. Here no request can be sent through moto's
 * balancers, so every case reads AWS's own state back instead: which groups the Auto Scaling API
 * says are attached, which instances the balancer has registered and how healthy. The same
 * promises are checked: prepare moves nothing; a move resolves only once the new slot serves
 * and the old one takes no new requests; refusals for what the router declares it lacks;
 * verify reads back (a hand edit shows); a rerun after a crash finishes the same move; an
 * unreachable API is CUTOVER_E_ROUTER; and — what these routers add — a rollback attaches the
 * old group and waits for it before detaching the new one, and a group that never gets healthy
 * is never left as the only one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { isCutoverError } from '../../src/shared/errors.js';
import type { Router } from '../../src/shared/router.js';
import { otherSlot, weightsAllOn, type Slot, type SlotEndpoints } from '../../src/shared/slot.js';
import { changes, recordedCalls, startRecording } from '../support/moto-recorder.js';

export interface EndpointRouterCase {
  /** The router under test, created from its config but not opened. */
  readonly router: Router;
  readonly endpoints: Required<SlotEndpoints>;
  readonly groups: Readonly<Record<Slot, string>>;
  /** Groups the Auto Scaling API says are attached to the balancer, sorted. */
  attachedGroups(): Promise<string[]>;
  /** Instance id → state, for every instance the balancer has registered. */
  registered(): Promise<Record<string, string>>;
  groupInstances(slot: Slot): Promise<string[]>;
  /** Attach a slot's group behind cutover's back (an operator in the console). */
  attachByHand(slot: Slot): Promise<void>;
  /** A second router on the same layout, as a restarted control process would create it. */
  anotherRouter(): Promise<Router>;
  /** Make a slot's instances fail the balancer's checks (moto: stop them). */
  makeUnhealthy(slot: Slot): Promise<void>;
  /** The group marks a slot's instances Unhealthy (SetInstanceHealth): they never serve. */
  markUnhealthyInGroup(slot: Slot): Promise<void>;
}

export interface EndpointRouterHarness {
  readonly motoEndpoint: string;
  /** The state the balancer reports for an instance that serves (`healthy`, `InService`). */
  readonly healthyState: string;
  /** The Auto Scaling calls that attach and detach a group to this balancer. */
  readonly attachAction: string;
  readonly detachAction: string;
  /**
   * moto's Classic ELB gap: attaching a second group replaces the balancer's instance list, so
   * the old group's instances are gone until it is attached again (real AWS keeps both).
   */
  readonly attachReplacesInstances: boolean;
  /** Clears moto and builds a fresh layout (a launch template, two groups, the balancer) and router. */
  fresh(options?: { settleTimeout?: string }): Promise<EndpointRouterCase>;
  /** A router of this kind whose AWS endpoint does not answer. */
  unreachableRouter(): Promise<Router>;
  teardown(): Promise<void>;
}

const CASE_TIMEOUT_MS = 60_000;

export function runEndpointRouterContract(name: string, setup: () => Promise<EndpointRouterHarness>): void {
  void describe(`Endpoint router contract: ${name}`, () => {
    let harness: EndpointRouterHarness | undefined;
    const opened: Router[] = [];
    const h = (): EndpointRouterHarness => {
      if (harness === undefined) throw new Error('harness not set up');
      return harness;
    };

    before(async () => {
      harness = await setup();
    });

    after(async () => {
      for (const router of opened) await router.close();
      await harness?.teardown();
    });

    /** Every case starts here: both slots prepared, blue attached and serving. */
    const blueLive = async (options?: {
      settleTimeout?: string;
    }): Promise<{ c: EndpointRouterCase; g: Router }> => {
      const c = await h().fresh(options);
      const g = guardRouter(c.router);
      opened.push(g);
      await g.open();
      await g.prepare({ blue: [], green: [] }, c.endpoints);
      await g.setWeights(weightsAllOn('blue'));
      return { c, g };
    };

    /** AWS's own view: only `slot`'s group attached, all its instances healthy, none of the other's taking requests. */
    const assertServing = async (c: EndpointRouterCase, slot: Slot, what: string): Promise<void> => {
      assert.deepEqual(await c.attachedGroups(), [c.groups[slot]], `${what}: attached groups`);
      const registered = await c.registered();
      for (const id of await c.groupInstances(slot)) {
        assert.equal(registered[id], h().healthyState, `${what}: ${slot} instance ${id} serves`);
      }
      for (const id of await c.groupInstances(otherSlot(slot))) {
        assert.notEqual(
          registered[id],
          h().healthyState,
          `${what}: ${otherSlot(slot)} instance ${id} takes no new requests`,
        );
      }
    };

    void it(
      'prepare sets both slots without moving traffic, and is idempotent',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        await startRecording(h().motoEndpoint);
        await g.prepare({ blue: [], green: [] }, c.endpoints);
        assert.deepEqual(
          changes(await recordedCalls(h().motoEndpoint)),
          [],
          'prepare changes nothing in AWS',
        );
        await assertServing(c, 'blue', 'after a second prepare');
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
      },
    );

    void it(
      'preview is refused: a balancer has no idle-only route',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        assert.equal(g.describe().capabilities.preview, 'none');
        await assert.rejects(g.preview('green'), (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_ROUTER'),
        );
        await assertServing(c, 'blue', 'after a refused preview');
      },
    );

    void it(
      'a switch resolves once the new group serves: attach it, wait healthy, then detach the old',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        for (const next of ['green', 'blue', 'green'] as const) {
          await startRecording(h().motoEndpoint);
          await g.setWeights(weightsAllOn(next));
          await assertServing(c, next, `after the switch to ${next}`);
          const calls = await recordedCalls(h().motoEndpoint);
          assert.deepEqual(
            changes(calls),
            [`${h().attachAction} ${c.groups[next]}`, `${h().detachAction} ${c.groups[otherSlot(next)]}`],
            `switch to ${next}: attach the new group first, detach the old last`,
          );
          const attachAt = calls.findIndex((call) => call.action === h().attachAction);
          const healthReadAt = calls.findIndex(
            (call, index) =>
              index > attachAt && call.action.startsWith('Describe') && /Health/.test(call.action),
          );
          const detachAt = calls.findIndex((call) => call.action === h().detachAction);
          assert.ok(
            attachAt < healthReadAt && healthReadAt < detachAt,
            `the new group's health is read between attach and detach: ${calls.map((call) => call.action).join(', ')}`,
          );
        }
      },
    );

    void it('a weighted split is refused and nothing moves', { timeout: CASE_TIMEOUT_MS }, async () => {
      const { c, g } = await blueLive();
      assert.equal(g.describe().capabilities.weighted, false);
      await assert.rejects(g.setWeights({ blue: 70, green: 30 }), (error: unknown) => {
        assert.ok(
          isCutoverError(error, 'CUTOVER_E_ROUTER'),
          `expected CUTOVER_E_ROUTER, got ${String(error)}`,
        );
        return true;
      });
      await assertServing(c, 'blue', 'after a refused split');
    });

    void it(
      'verify reads back what AWS shows, not what was last asked',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
        await g.setWeights(weightsAllOn('green'));
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('green') });
        // An operator attaches blue again by hand: both groups serve, which is not what was asked.
        await c.attachByHand('blue');
        const seen = await g.verify();
        assert.equal(seen.kind, 'converging', `verify after a hand edit: ${JSON.stringify(seen)}`);
        assert.match(seen.kind === 'converging' ? seen.seen : '', new RegExp(c.groups.blue));
        // The next move undoes it.
        await g.setWeights(weightsAllOn('green'));
        await assertServing(c, 'green', 'after the move that followed the hand edit');
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('green') });
      },
    );

    void it(
      'verify says converging while the live group is not healthy at the balancer',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        await c.makeUnhealthy('blue');
        const seen = await g.verify();
        assert.equal(seen.kind, 'converging', JSON.stringify(seen));
        assert.match(seen.kind === 'converging' ? seen.seen : '', /0\/2 healthy/);
      },
    );

    void it(
      'drainStatus says why it cannot count; drain waits until the old group is deregistered',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        await g.setWeights(weightsAllOn('green'));
        await g.drain('blue', { deadline: new Date(Date.now() + 5000) });
        const registered = await c.registered();
        for (const id of await c.groupInstances('blue'))
          assert.equal(registered[id], undefined, `${id} drained`);
        const status = await g.drainStatus('blue');
        assert.equal(status.kind, 'unknown');
        assert.ok(status.kind === 'unknown' && status.reason.length > 0);
        // Draining the live group could never end: refused.
        await assert.rejects(g.drain('green', { deadline: new Date(Date.now() + 1000) }), (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_ROUTER'),
        );
      },
    );

    void it(
      'cleanup forgets the idle slot and leaves the live one alone',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        await g.cleanup('green');
        await g.cleanup('green');
        await assertServing(c, 'blue', 'after cleanup of the idle slot');
        await assert.rejects(g.cleanup('blue'), (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_SLOT_LIVE'),
        );
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
      },
    );

    void it(
      'a rollback attaches the old group and waits for it before it detaches the new one',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        await g.setWeights(weightsAllOn('green'));
        const before = { blue: await c.attachedGroups() };
        assert.deepEqual(before.blue, [c.groups.green]);
        await startRecording(h().motoEndpoint);
        await g.setWeights(weightsAllOn('blue'));
        const calls = await recordedCalls(h().motoEndpoint);
        const attachBlue = calls.findIndex(
          (call) => call.action === h().attachAction && call.group === c.groups.blue,
        );
        const detachGreen = calls.findIndex(
          (call) => call.action === h().detachAction && call.group === c.groups.green,
        );
        assert.ok(attachBlue >= 0 && detachGreen > attachBlue, 'blue attached before green is detached');
        const healthBetween = calls
          .slice(attachBlue + 1, detachGreen)
          .some((call) => /Health/.test(call.action));
        assert.ok(healthBetween, 'blue health read after it was attached and before green was detached');
        await assertServing(c, 'blue', 'after the rollback');
      },
    );

    void it(
      'a group that never becomes healthy is withdrawn and the old one keeps serving',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive({ settleTimeout: '1500ms' });
        await c.markUnhealthyInGroup('green');
        await startRecording(h().motoEndpoint);
        await assert.rejects(g.setWeights(weightsAllOn('green')), (error: unknown) => {
          assert.ok(
            isCutoverError(error, 'CUTOVER_E_ROUTER'),
            `expected CUTOVER_E_ROUTER, got ${String(error)}`,
          );
          assert.match((error as Error).message, new RegExp(`${c.groups.green}.*did not become healthy`));
          return true;
        });
        assert.deepEqual(changes(await recordedCalls(h().motoEndpoint)), [
          `${h().attachAction} ${c.groups.green}`,
          `${h().detachAction} ${c.groups.green}`,
        ]);
        assert.deepEqual(await c.attachedGroups(), [c.groups.blue], 'blue stays the only group');
        if (!h().attachReplacesInstances) {
          assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
        }
        // The engine's abort asks for blue again: it serves (moto's Classic ELB needs blue's
        // instances registered again, which the switch does when it finds them missing).
        await g.setWeights(weightsAllOn('blue'));
        await assertServing(c, 'blue', 'after the abort');
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
      },
    );

    void it(
      'a rerun after a crash between attach and detach finishes the same move, attaching nothing twice',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        // The state a crash right after the attach leaves: both groups attached.
        await c.attachByHand('green');
        const crashed = await g.verify();
        assert.equal(crashed.kind, 'converging', 'both groups attached is not a settled state');
        await g.close();
        // A new router (the restarted control process), prepared again and asked for the same move.
        const restarted = guardRouter(await c.anotherRouter());
        opened.push(restarted);
        await restarted.open();
        await restarted.prepare({ blue: [], green: [] }, c.endpoints);
        await startRecording(h().motoEndpoint);
        await restarted.setWeights(weightsAllOn('green'));
        assert.deepEqual(await restarted.verify(), { kind: 'observed', weights: weightsAllOn('green') });
        assert.deepEqual(changes(await recordedCalls(h().motoEndpoint)), [
          `${h().detachAction} ${c.groups.blue}`,
        ]);
        await assertServing(c, 'green', 'after the rerun');
      },
    );

    void it(
      'an AWS API that does not answer gives CUTOVER_E_ROUTER',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const router = guardRouter(await h().unreachableRouter());
        await assert.rejects(router.open(), (error: unknown) => {
          assert.ok(
            isCutoverError(error, 'CUTOVER_E_ROUTER'),
            `expected CUTOVER_E_ROUTER, got ${String(error)}`,
          );
          return true;
        });
        await router.close();
      },
    );

    void it(
      'prepare refuses host:port instances, a group that does not exist and one in another region',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { c, g } = await blueLive();
        const instance = { id: 'i-1', host: '127.0.0.1', port: 8080 };
        const cases: [string, Parameters<Router['prepare']>][] = [
          ['host:port', [{ blue: [], green: [instance] }, { blue: c.endpoints.blue }]],
          [
            'missing group',
            [
              { blue: [], green: [] },
              { ...c.endpoints, green: { ...c.endpoints.green, id: 'no-such-group' } },
            ],
          ],
          [
            'other region',
            [
              { blue: [], green: [] },
              { ...c.endpoints, green: { ...c.endpoints.green, details: { region: 'eu-west-1' } } },
            ],
          ],
        ];
        for (const [what, args] of cases) {
          await assert.rejects(g.prepare(...args), (error: unknown) => {
            assert.ok(
              isCutoverError(error, 'CUTOVER_E_ROUTER'),
              `${what}: expected CUTOVER_E_ROUTER, got ${String(error)}`,
            );
            return true;
          });
        }
        await assertServing(c, 'blue', 'after refused prepares');
      },
    );
  });
}
