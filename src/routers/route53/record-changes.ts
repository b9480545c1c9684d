/**
 * The change batch that puts the record sets of one name where a move wants them, computed from
 * the sets the name has (as listed, or as an earlier planned change leaves them): setWeights()
 * submits it, planMove() prints it. Pure, so the plan and the move cannot disagree.
 */
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CutoverError } from '../../shared/errors.js';
import { SLOTS, type Slot, type Weights } from '../../shared/slot.js';
import { namesTarget, recordSetFor, setIdentifier, sortRecords } from './record-sets.js';
import { recordWeights } from './record-weights.js';
import { normalDnsName, type RecordTarget } from './slot-record-target.js';

export interface RecordLayout {
  readonly recordName: string;
  readonly ttlSeconds: number;
  /** The app's name: weighted records are identified `<app>-<slot>`. */
  readonly app: string;
}

/**
 * Mode alias: one record that names the live slot; a type change is a DELETE and a CREATE in the
 * same batch. Empty when it names that slot already, or when the live slot has nothing to name
 * (the engine's baseline before the first deploy).
 */
export function aliasChanges(
  layout: RecordLayout,
  weights: Weights,
  targets: Partial<Record<Slot, RecordTarget>>,
  sets: readonly ResourceRecordSet[],
): Change[] {
  const target = targets[liveSlotOf(weights)];
  if (target === undefined) return [];
  const { simple } = sortRecords(sets);
  if (simple.length === 1 && simple[0] !== undefined && namesTarget(simple[0], target)) return [];
  const wanted = recordSetFor(layout.recordName, target, layout.ttlSeconds);
  const stale = simple.filter((set) => set.Type !== wanted.Type);
  return [
    ...stale.map((set): Change => ({ Action: 'DELETE', ResourceRecordSet: set })),
    { Action: 'UPSERT', ResourceRecordSet: wanted },
  ];
}

/** Mode weighted: both slots' weighted records, in one batch; a slot with no target keeps what it names. */
export function weightedChanges(
  layout: RecordLayout,
  weights: Weights,
  targets: Partial<Record<Slot, RecordTarget>>,
  sets: readonly ResourceRecordSet[],
): Change[] {
  const mapped = recordWeights(weights);
  const { weighted } = sortRecords(sets);
  const changes: Change[] = [];
  for (const slot of SLOTS) {
    const identifier = setIdentifier(layout.app, slot);
    const existing = weighted.get(identifier);
    const target = targets[slot];
    let wanted: ResourceRecordSet;
    if (target !== undefined) {
      wanted = recordSetFor(layout.recordName, target, layout.ttlSeconds, {
        identifier,
        weight: mapped[slot],
      });
    } else if (existing !== undefined) {
      wanted = { ...existing, Weight: mapped[slot] };
    } else {
      continue;
    }
    const same =
      existing !== undefined &&
      existing.Weight === wanted.Weight &&
      (target === undefined || namesTarget(existing, target));
    if (!same) changes.push({ Action: 'UPSERT', ResourceRecordSet: wanted });
  }
  return changes;
}

/**
 * Refuses a move the record(s) cannot make, before anything is read: a split in mode alias, a
 * weight Route 53 cannot hold in mode weighted.
 */
export function assertMovable(mode: 'alias' | 'weighted', weights: Weights): void {
  if (mode === 'weighted') {
    recordWeights(weights);
    return;
  }
  liveSlotOf(weights);
}

function liveSlotOf(weights: Weights): Slot {
  const live = SLOTS.find((slot) => weights[slot] === 100);
  if (live === undefined) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `the route53 router in mode alias moves all users at once (blue 100 / green 0 or the reverse), not blue ${weights.blue} / green ${weights.green}; use mode: weighted for steps`,
      { details: { asked: weights } },
    );
  }
  return live;
}

/** The sets of the name once `changes` are applied (what a plan's next move starts from). */
export function afterChanges(
  sets: readonly ResourceRecordSet[],
  changes: readonly Change[],
): ResourceRecordSet[] {
  const key = (set: ResourceRecordSet): string =>
    `${normalDnsName(set.Name ?? '')}\n${set.Type ?? ''}\n${set.SetIdentifier ?? ''}`;
  const result = new Map(sets.map((set) => [key(set), set]));
  for (const change of changes) {
    const set = change.ResourceRecordSet;
    if (set === undefined) continue;
    if (change.Action === 'DELETE') result.delete(key(set));
    // Route 53 lists names fully qualified: what a later DELETE of this set will send.
    else result.set(key(set), { ...set, Name: `${normalDnsName(set.Name ?? '')}.` });
  }
  return [...result.values()];
}
