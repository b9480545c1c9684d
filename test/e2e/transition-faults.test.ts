/**
 * Rollback and abort are journaled phases whose traffic move is retried until the router
 * verifies it. A FaultyRouter around the real router (builtin, or a real HAProxy) fails or
 * hangs the move: the record never says rolled-back/aborted while traffic stays, a retried
 * rollback (or a restart) completes the move, and the new slot ends stopped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';
import {
  deployToStandby,
  promoteAtGate,
  servedBy,
  startInProcess,
  waitForPhase,
  waitsAtGate,
  type InProcessEngine,
} from './in-process-engine.js';

/** Each deploy but the first holds at 50% until promoted: an abort lands mid-shift. */
const HELD_SHIFT = [
  'strategy:',
  '  kind: shift',
  '  steps: [{ weight: 50, gate: manual }, { weight: 100 }]',
].join('\n');

const ROUTERS: Array<{ kind: string; startDaemon?: () => Promise<RouterDaemon> }> = [
  { kind: 'builtin' },
  { kind: 'haproxy', startDaemon: daemonFrom(startHaproxyHarness, { closeHarnessRouter: true }) },
];

for (const { kind, startDaemon } of ROUTERS) {
  void describe(`rollback and abort under router faults (${kind})`, () => {
    let daemon: RouterDaemon | undefined;
    let harness: CutoverHarness;
    let app: InProcessEngine;

    before(async () => {
      daemon = await startDaemon?.();
      harness = await CutoverHarness.create({
        releases: { v1: {}, v2: {}, v3: {}, v4: {} },
        extraYaml: HELD_SHIFT,
        ...(daemon ? { router: { config: daemon.config, url: daemon.url } } : {}),
      });
      app = await startInProcess(harness);
      await deployToStandby(app, 'v1');
    });
    after(async () => {
      try {
        await app?.close();
        await harness?.teardown();
      } finally {
        await daemon?.teardown();
      }
    });

    /** A deploy held at its 50% gate: phase shifting, both slots serving. */
    async function deployHeldAtGate(release: string): Promise<string> {
      const { deployment } = await app.engine.deploy(release, 'test');
      await waitFor(() => waitsAtGate(app, deployment.id), {
        timeoutMs: 30_000,
        what: `${release} to hold at 50%`,
      });
      return deployment.id;
    }

    /** Deploys `release` through its 50% gate to standby. */
    async function deployThroughGate(release: string): Promise<string> {
      const id = await deployHeldAtGate(release);
      await promoteAtGate(app, id);
      await waitForPhase(app.store, id, ['standby']);
      return id;
    }

    async function assertServedOnly(release: string): Promise<void> {
      for (let i = 0; i < 20; i += 1) assert.equal(await servedBy(harness.trafficUrl), release);
    }

    async function assertSlotStopped(slot: 'blue' | 'green'): Promise<void> {
      // Stopped, and forgotten by the routing table (the run does both, in that order).
      await waitFor(
        async () =>
          (await app.engine.status()).instances[slot].length === 0 &&
          (await app.engine.traffic.current()).targets[slot].length === 0,
        { timeoutMs: 20_000, what: `${slot} to be stopped and forgotten` },
      );
    }

    it('a rollback whose move fails keeps rolling-back with traffic where it was; a retried rollback completes it', async () => {
      const id = await deployThroughGate('v2');
      await assertServedOnly('v2');

      app.router.failMoves();
      await assert.rejects(app.engine.rollback('operator', id), (error) =>
        isCutoverError(error, 'CUTOVER_E_ROUTER'),
      );
      assert.equal((await app.store.getDeployment(id))?.phase, 'rolling-back');
      await assertServedOnly('v2');

      app.router.heal();
      const done = await app.engine.rollback('operator', id);
      assert.equal(done.phase, 'rolled-back');
      await assertServedOnly('v1');
      await assertSlotStopped('green');
      assert.equal(await app.store.getLease('e2e'), undefined, 'the lease is free again');
      const journal = (await app.store.journal(id)).map((entry) => entry.phase);
      assert.ok(journal.indexOf('rolling-back') < journal.indexOf('rolled-back'), journal.join(' '));
    });

    it('an abort whose move fails stays aborting; after a restart the move completes and the new slot stops', async () => {
      const id = await deployHeldAtGate('v3');
      app.router.failMoves();
      await assert.rejects(app.engine.abort('operator', id), (error) =>
        isCutoverError(error, 'CUTOVER_E_ROUTER'),
      );
      assert.equal((await app.store.getDeployment(id))?.phase, 'aborting');

      await app.close();
      app = await startInProcess(harness);
      const record = await waitForPhase(app.store, id, ['aborted']);
      assert.equal(record.reason?.code, 'CUTOVER_E_ABORTED');
      await assertServedOnly('v1');
      await assertSlotStopped('green');
      await waitFor(async () => (await app.store.getLease('e2e')) === undefined, {
        what: 'the lease to be released',
      });
    });

    it('a rollback whose move hangs is journaled as rolling-back, never rolled-back, until the move is verified', async () => {
      const id = await deployThroughGate('v4');
      const held = app.router.holdNextMove((weights) => weights.blue === 100);
      const rollback = app.engine.rollback('operator', id);
      await held.reached;
      assert.equal((await app.store.getDeployment(id))?.phase, 'rolling-back');
      await assertServedOnly('v4');
      held.release();
      assert.equal((await rollback).phase, 'rolled-back');
      await assertServedOnly('v1');
      await assertSlotStopped('green');
    });
  });
}
