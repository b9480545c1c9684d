/**
 * The control plane's side of shadow comparison: every worker's counts summed per slot (the
 * slot the copies went to), and the last MAX_SAMPLES differing pairs per slot with when they
 * arrived. Held in the server's memory, like the proxy's counters: a restart starts from zero,
 * and what a deployment's shadow stage saw is journaled by the engine (deployment-run.ts).
 */
import {
  MAX_SAMPLES,
  NO_SHADOW_COUNTS,
  type ShadowCounts,
  type ShadowReadings,
  type ShadowSample,
} from '../../proxy/shadow/shadow-sample.js';
import type { Slot } from '../../shared/slot.js';
import type { ShadowEvent } from './worker/protocol.js';

interface Kept {
  readonly arrivedMs: number;
  readonly sample: ShadowSample;
}

export class ShadowLedger implements ShadowReadings {
  private readonly sums: Record<Slot, ShadowCounts> = { blue: NO_SHADOW_COUNTS, green: NO_SHADOW_COUNTS };
  private readonly kept: Record<Slot, Kept[]> = { blue: [], green: [] };

  constructor(private readonly now: () => number = Date.now) {}

  record(event: ShadowEvent): void {
    for (const slot of ['blue', 'green'] as const) {
      const sum = this.sums[slot];
      const add = event.counts[slot];
      this.sums[slot] = {
        compared: sum.compared + add.compared,
        differing: sum.differing + add.differing,
        dropped: sum.dropped + add.dropped,
      };
    }
    const arrivedMs = this.now();
    for (const { slot, sample } of event.samples) {
      const list = this.kept[slot];
      list.push({ arrivedMs, sample });
      if (list.length > MAX_SAMPLES) list.shift();
    }
  }

  counts(): Record<Slot, ShadowCounts> {
    return { blue: this.sums.blue, green: this.sums.green };
  }

  samples(slot: Slot, sinceMs: number): ShadowSample[] {
    return this.kept[slot].filter((kept) => kept.arrivedMs >= sinceMs).map((kept) => kept.sample);
  }
}
