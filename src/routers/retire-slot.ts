import { CutoverError } from '../core/errors.js';
import type { Slot, SlotTargets, Weights } from '../core/slot.js';

/** What the nginx and HAProxy routers keep in the files they own. */
export interface SlotFileState {
  readonly targets: SlotTargets;
  readonly weights: Weights;
  /** The slot the preview route reaches, or null before any preview. */
  readonly preview: Slot | null;
}

/**
 * The state once `slot` is retired (cleanup()): no instances and no preview left on it, weights
 * unchanged. Refuses a slot that still takes live traffic, so cleanup can never cut off users.
 */
export function withSlotRetired(state: SlotFileState, slot: Slot): SlotFileState {
  if (state.weights[slot] > 0) {
    throw new CutoverError('CUTOVER_E_INVALID_STATE', `cannot clean up ${slot}: it still takes live traffic`);
  }
  return {
    targets: { ...state.targets, [slot]: [] },
    weights: state.weights,
    preview: state.preview === slot ? null : state.preview,
  };
}
