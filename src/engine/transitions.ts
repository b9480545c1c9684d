import { CutoverError, isCutoverError } from '../shared/errors.js';
import { ABORTABLE_PHASES, ROLLBACKABLE_PHASES, type Phase } from '../shared/phase.js';
import type { DeploymentPatch, DeploymentRecord, Store } from '../shared/store.js';

/**
 * The deployment state machine of DESIGN.md: which phase may follow which. The engine decides;
 * the store only journals what the engine decided, with a compare-and-set on the phase read.
 */
const FORWARD: Record<Phase, readonly Phase[]> = {
  pending: ['provisioning'],
  provisioning: ['verifying'],
  verifying: ['awaiting-promotion', 'shifting'],
  'awaiting-promotion': ['shifting'],
  shifting: ['promoted'],
  promoted: ['draining'],
  draining: ['standby'],
  standby: ['retired'],
  retired: [],
  aborted: [],
  'rolled-back': [],
  aborting: [],
  'rolling-back': [],
};

export function canTransition(from: Phase, to: Phase): boolean {
  if (from === to) return true; // idempotent re-entry after a crash
  if (to === 'aborting') return ABORTABLE_PHASES.has(from);
  if (to === 'rolling-back') return ROLLBACKABLE_PHASES.has(from);
  // The engine always passes through the intent phase; a direct move stays valid for records
  // written by earlier versions.
  if (to === 'aborted') return from === 'aborting' || ABORTABLE_PHASES.has(from);
  if (to === 'rolled-back') return from === 'rolling-back' || ROLLBACKABLE_PHASES.has(from);
  return FORWARD[from].includes(to);
}

export interface TransitionOptions {
  /**
   * The phase the caller decided on. Given: a record that has moved since fails with
   * CUTOVER_E_PHASE_CHANGED (the caller re-reads and decides again). Absent: the current phase
   * is read and the rules checked against it, again after a concurrent change.
   */
  readonly expectedPhase?: Phase;
  readonly patch?: DeploymentPatch;
  readonly data?: Record<string, unknown>;
}

/** A concurrent writer can move the record between the read and the write at most this often in a row. */
const MAX_REREADS = 5;

/**
 * Moves deployment `id` to `to` if the state machine allows it from its phase (else
 * CUTOVER_E_INVALID_STATE), journaled and applied by the store in one compare-and-set write.
 */
export async function transitionDeployment(
  store: Store,
  id: string,
  to: Phase,
  options: TransitionOptions = {},
): Promise<DeploymentRecord> {
  for (let attempt = 1; ; attempt += 1) {
    const from = options.expectedPhase ?? (await currentPhase(store, id));
    if (!canTransition(from, to)) {
      throw new CutoverError('CUTOVER_E_INVALID_STATE', `deployment ${id} is ${from}; cannot move to ${to}`, {
        details: { deploymentId: id, from, to },
      });
    }
    try {
      return await store.transition(id, {
        expectedPhase: from,
        to,
        ...(options.patch !== undefined ? { patch: options.patch } : {}),
        ...(options.data !== undefined ? { data: options.data } : {}),
      });
    } catch (error) {
      const reread =
        options.expectedPhase === undefined &&
        attempt < MAX_REREADS &&
        isCutoverError(error, 'CUTOVER_E_PHASE_CHANGED');
      if (!reread) throw error;
    }
  }
}

async function currentPhase(store: Store, id: string): Promise<Phase> {
  const record = await store.getDeployment(id);
  if (record === undefined) {
    throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${id} does not exist`, {
      details: { deploymentId: id },
    });
  }
  return record.phase;
}
