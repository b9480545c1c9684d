import type { Slot, SlotTargets, Weights } from '../../shared/slot.js';
import type { RoutingTable } from './worker/protocol.js';

/** What the router was asked: the table every proxy worker is given whole. */
export interface AppliedState {
  targets: SlotTargets | undefined;
  weights: Weights | undefined;
  previewSlot: Slot | undefined;
}

export function tableOf(applied: AppliedState): RoutingTable {
  const strip = (targets: SlotTargets[Slot] | undefined) =>
    (targets ?? []).map(({ id, host, port }) => ({ id, host, port }));
  return {
    targets: { blue: strip(applied.targets?.blue), green: strip(applied.targets?.green) },
    ...(applied.weights ? { weights: { blue: applied.weights.blue, green: applied.weights.green } } : {}),
    ...(applied.previewSlot ? { previewSlot: applied.previewSlot } : {}),
  };
}

/** Same weights, same preview slot, same instances per slot (order aside). */
export function sameTable(a: RoutingTable, b: RoutingTable): boolean {
  if (a.previewSlot !== b.previewSlot) return false;
  if ((a.weights === undefined) !== (b.weights === undefined)) return false;
  if (a.weights && b.weights && (a.weights.blue !== b.weights.blue || a.weights.green !== b.weights.green))
    return false;
  const key = (targets: RoutingTable['targets'][Slot]) =>
    targets
      .map(({ id, host, port }) => `${id}@${host}:${port}`)
      .sort()
      .join(',');
  return key(a.targets.blue) === key(b.targets.blue) && key(a.targets.green) === key(b.targets.green);
}
