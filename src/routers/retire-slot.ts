import type { Slot, SlotTargets, Weights } from '../shared/slot.js';

/** What the nginx and HAProxy routers keep in the files they own. */
export interface SlotFileState {
  readonly targets: SlotTargets;
  readonly weights: Weights;
  /** The slot the preview route reaches, or null before any preview. */
  readonly preview: Slot | null;
}

/**
 * The state once `slot` is retired (cleanup()): no instances and no preview left on it, weights
 * unchanged. The guard layer (guarded-router.ts) has already refused a slot that still takes
 * live traffic.
 */
export function withSlotRetired(state: SlotFileState, slot: Slot): SlotFileState {
  return {
    targets: { ...state.targets, [slot]: [] },
    weights: state.weights,
    preview: state.preview === slot ? null : state.preview,
  };
}
