/**
 * The live table: which instances stand behind each slot and what share of new requests each
 * slot gets. A request reads it once, when it arrives, so a change applies to every request
 * that arrives after setWeights() returns and to none already in flight.
 */
import type { Slot, SlotTargets, Target, Weights } from '../shared/slot.js';
import { Upstream, sameTarget, type UpstreamTimeouts } from './upstream-pool.js';

export class SlotTable {
  private readonly pools: Record<Slot, Upstream[]> = { blue: [], green: [] };
  private readonly cursor: Record<Slot, number> = { blue: 0, green: 0 };
  private weights: Weights | undefined;
  /** The slot every new live request goes to under an atomic split; undefined while shifting. */
  private sole: Slot | undefined;

  constructor(private readonly upstreamTimeouts: UpstreamTimeouts) {}

  /** Replaces the instances behind each slot, keeping pools of instances that stay. Returns the ones removed. */
  setTargets(targets: SlotTargets): Upstream[] {
    const removed: Upstream[] = [];
    for (const slot of ['blue', 'green'] as const) {
      const current = this.pools[slot];
      const next = targets[slot].map(
        (target) =>
          current.find((upstream) => sameTarget(upstream.target, target)) ??
          new Upstream({ ...target }, this.upstreamTimeouts),
      );
      for (const upstream of current) if (!next.includes(upstream)) removed.push(upstream);
      this.pools[slot] = next;
    }
    return removed;
  }

  setWeights(weights: Weights): void {
    this.weights = { blue: weights.blue, green: weights.green };
    this.sole = weights.green <= 0 ? 'blue' : weights.blue <= 0 ? 'green' : undefined;
  }

  /** The slot with weight 0 while the other has all of it; undefined while shifting or before any weights. */
  idleSlot(): Slot | undefined {
    if (this.sole === undefined) return undefined;
    return this.sole === 'blue' ? 'green' : 'blue';
  }

  getWeights(): Weights | undefined {
    return this.weights;
  }

  isShifting(): boolean {
    return this.weights !== undefined && this.sole === undefined;
  }

  weightOf(slot: Slot): number {
    return this.weights?.[slot] ?? 0;
  }

  /** The slot for a new live request: the sticky slot while it still has weight, else by weight. */
  pickLiveSlot(sticky: Slot | undefined): Slot | undefined {
    if (this.sole !== undefined) return this.sole;
    const weights = this.weights;
    if (weights === undefined) return undefined;
    if (sticky !== undefined && weights[sticky] > 0) return sticky;
    return Math.random() * (weights.blue + weights.green) < weights.blue ? 'blue' : 'green';
  }

  /** Round-robin over the slot's instances that are not marked down, skipping `avoid` when another exists. */
  pickUpstream(slot: Slot, avoid?: Upstream): Upstream | undefined {
    const pool = this.pools[slot];
    const size = pool.length;
    if (size === 0) return undefined;
    const now = Date.now();
    let fallback: Upstream | undefined;
    for (let tried = 0; tried < size; tried += 1) {
      const index = this.cursor[slot]++ % size;
      const upstream = pool[index]!;
      if (!upstream.isUp(now)) continue;
      if (upstream === avoid) {
        fallback = upstream;
        continue;
      }
      return upstream;
    }
    if (this.cursor[slot] > 1_000_000_000) this.cursor[slot] = 0;
    return fallback;
  }

  upstreams(slot: Slot): readonly Upstream[] {
    return this.pools[slot];
  }

  targets(): SlotTargets {
    const copy = (slot: Slot): Target[] => this.pools[slot].map((upstream) => ({ ...upstream.target }));
    return { blue: copy('blue'), green: copy('green') };
  }
}
