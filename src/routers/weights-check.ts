/**
 * What the config-file routers check about the weights they are asked to apply, in one place
 * so nginx, HAProxy and Varnish accept exactly the same weights.
 */
import { CutoverError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SLOTS, type SlotTargets, type Weights } from '../core/slot.js';

/** Whole percents from 0 to 100 adding up to 100. */
export function isWholePercentSplit(weights: Weights): boolean {
  const valid = SLOTS.every(
    (slot) => Number.isInteger(weights[slot]) && weights[slot] >= 0 && weights[slot] <= 100,
  );
  return valid && weights.blue + weights.green === 100;
}

/**
 * Whole percents adding up to 100. A share on a slot without instances is accepted (the engine's
 * baseline before any deploy is "blue 100%, nothing running"): that share has nowhere to go,
 * and verify() reports what the data plane really does.
 */
export function checkWeights(weights: Weights): void {
  if (!isWholePercentSplit(weights)) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `weights must be whole percents adding up to 100, got ${JSON.stringify(weights)}`,
    );
  }
}

/** Logs each slot given a share while it has no instances (accepted, see checkWeights). */
export function warnWeightOnEmptySlot(logger: Logger, targets: SlotTargets, weights: Weights): void {
  for (const slot of SLOTS) {
    if (weights[slot] > 0 && targets[slot].length === 0) {
      logger.warn('router.weight-on-empty-slot', { slot, weight: weights[slot] });
    }
  }
}
