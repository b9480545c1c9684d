import { CutoverError } from '../core/errors.js';
import type { Slot, SlotTargets } from '../core/slot.js';

/**
 * Refuses to preview a slot that has no instances: a smoke test against it could only fail, or
 * worse, pass against whatever the router falls back to. Shared so Caddy and Varnish (which
 * check before they touch the data plane) refuse with the same words.
 */
export function refusePreviewOfEmptySlot(targets: SlotTargets, slot: Slot): void {
  if (targets[slot].length === 0) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `cannot preview ${slot}: it has no instances; prepare it first`,
    );
  }
}
