/**
 * The state machine's rules live in the engine (engine/transitions.ts); the store only journals
 * a move with a compare-and-set on the phase the engine read. Runs on a real SQLite store.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canTransition, transitionDeployment } from '../../src/engine/transitions.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { PHASES, type Phase } from '../../src/shared/phase.js';
import type { PhaseChange, Store } from '../../src/shared/store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';
import { newDeployment } from '../store/contract.js';

/** Walks a fresh deployment `id` along `path` (each move allowed by the rules). */
async function walk(store: Store, id: string, phases: readonly Phase[]): Promise<void> {
  await store.createDeployment(newDeployment(id));
  for (const to of phases) await transitionDeployment(store, id, to);
}

/** The store, except that before its first transition another writer moves the record to `to`. */
function racedBy(store: Store, other: Store, to: Phase): Store {
  let raced = false;
  return Object.assign(Object.create(store) as Store, {
    transition: async (id: string, change: PhaseChange) => {
      if (!raced) {
        raced = true;
        const current = await other.getDeployment(id);
        await other.transition(id, { expectedPhase: current!.phase, to });
      }
      return store.transition(id, change);
    },
  });
}

void describe('the state machine', () => {
  void it('forward moves follow DESIGN.md, re-entry is allowed, nothing leaves a terminal phase', () => {
    const allowed = (from: Phase): Phase[] => PHASES.filter((to) => to !== from && canTransition(from, to));
    assert.deepEqual(allowed('pending'), ['provisioning', 'aborted', 'aborting']);
    assert.deepEqual(allowed('verifying'), ['awaiting-promotion', 'shifting', 'aborted', 'aborting']);
    assert.deepEqual(allowed('shifting'), ['promoted', 'aborted', 'aborting']);
    assert.deepEqual(allowed('promoted'), ['draining', 'rolled-back', 'rolling-back']);
    assert.deepEqual(allowed('standby'), ['retired', 'rolled-back', 'rolling-back']);
    assert.deepEqual(allowed('aborting'), ['aborted']);
    assert.deepEqual(allowed('rolling-back'), ['rolled-back']);
    for (const terminal of ['retired', 'aborted', 'rolled-back'] as const) {
      assert.deepEqual(allowed(terminal), [], `${terminal} is final`);
    }
    for (const phase of PHASES) assert.ok(canTransition(phase, phase), `${phase} may be re-entered`);
  });
});

void describe('transitionDeployment', () => {
  let dir: string;
  let store: Store;
  let other: Store;
  before(async () => {
    dir = await makeTempDir('transitions');
    store = openSqliteStore(path.join(dir, 'state.db'));
    other = openSqliteStore(path.join(dir, 'state.db'));
  });
  after(async () => {
    await store?.close();
    await other?.close();
    await removeTempDir(dir);
  });

  void it('AMoveTheRulesForbid_IsInvalidStateAndWritesNothing', async () => {
    await walk(store, 'd-forbidden', ['provisioning', 'aborting', 'aborted']);
    const journal = await store.journal('d-forbidden');
    await assert.rejects(
      transitionDeployment(store, 'd-forbidden', 'shifting'),
      (error) =>
        isCutoverError(error, 'CUTOVER_E_INVALID_STATE') &&
        error.message === 'deployment d-forbidden is aborted; cannot move to shifting',
    );
    await assert.rejects(
      transitionDeployment(store, 'd-forbidden', 'rolling-back', { expectedPhase: 'aborted' }),
      (error) => isCutoverError(error, 'CUTOVER_E_INVALID_STATE'),
    );
    assert.deepEqual(await store.journal('d-forbidden'), journal);
  });

  void it('RollbackOnlyFromPromotedDrainingOrStandby', async () => {
    await walk(store, 'd-early', ['provisioning', 'verifying', 'shifting']);
    await assert.rejects(transitionDeployment(store, 'd-early', 'rolling-back'), (error) =>
      isCutoverError(error, 'CUTOVER_E_INVALID_STATE'),
    );
    await transitionDeployment(store, 'd-early', 'promoted');
    const back = await transitionDeployment(store, 'd-early', 'rolling-back', {
      patch: { reason: { code: 'CUTOVER_E_ABORTED', message: 'rolled back by bob' } },
      data: { to: 'blue' },
    });
    assert.equal(back.phase, 'rolling-back');
    assert.deepEqual(back.reason, { code: 'CUTOVER_E_ABORTED', message: 'rolled back by bob' });
    assert.deepEqual((await store.journal('d-early')).at(-1)?.data, { to: 'blue' });
  });

  void it('AnExpectedPhaseTheRecordLeft_IsPhaseChangedAndWritesNothing', async () => {
    await walk(store, 'd-stale', ['provisioning', 'verifying', 'shifting']);
    await transitionDeployment(store, 'd-stale', 'aborting');
    const journal = await store.journal('d-stale');
    // A run that read `shifting` before the abort landed must not promote.
    await assert.rejects(
      transitionDeployment(store, 'd-stale', 'promoted', { expectedPhase: 'shifting' }),
      (error) => isCutoverError(error, 'CUTOVER_E_PHASE_CHANGED'),
    );
    assert.deepEqual(await store.journal('d-stale'), journal);
    assert.equal((await store.getDeployment('d-stale'))?.phase, 'aborting');
  });

  void it('WithoutAnExpectedPhase_AConcurrentMoveIsReadAgainAndTheRulesDecideOnIt', async () => {
    await walk(store, 'd-race-1', ['provisioning', 'verifying', 'shifting']);
    // Read `shifting`, then another writer aborts it first: promoted is now forbidden.
    await assert.rejects(
      transitionDeployment(racedBy(store, other, 'aborting'), 'd-race-1', 'promoted'),
      (error) =>
        isCutoverError(error, 'CUTOVER_E_INVALID_STATE') &&
        /is aborting; cannot move to promoted/.test(error.message),
    );
    assert.equal((await store.getDeployment('d-race-1'))?.phase, 'aborting');

    await walk(store, 'd-race-2', ['provisioning']);
    // Read `provisioning`, then the run moved on to `verifying`: an abort is still allowed there.
    const aborting = await transitionDeployment(racedBy(store, other, 'verifying'), 'd-race-2', 'aborting');
    assert.equal(aborting.phase, 'aborting');
    assert.deepEqual(
      (await store.journal('d-race-2')).map((entry) => entry.phase),
      ['pending', 'provisioning', 'verifying', 'aborting'],
    );
  });

  void it('AnUnknownDeployment_IsNotFound', async () => {
    await assert.rejects(transitionDeployment(store, 'd-none', 'provisioning'), (error) =>
      isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
    );
  });
});
