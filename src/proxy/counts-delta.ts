/**
 * What a proxy worker adds to the control plane's summed counters in one report: its counts since
 * the previous report. A report has the same size whatever the request rate (bucket counts, not
 * one record per request), so the control process's work per report stays small under load.
 */
import { FINE_LATENCY_BUCKETS } from './fine-latency.js';
import type { ExchangeCut, SlotCounters } from './metrics.js';
import { EXCHANGE_CUTS, LATENCY_BUCKETS_SECONDS, STATUS_CLASSES } from './metrics.js';

export interface SlotCountsDelta {
  readonly requests: number;
  readonly errors: number;
  readonly proxyErrors: number;
  readonly latencySecondsSum: number;
  /** Requests per LATENCY_BUCKETS_SECONDS bound, +Inf last: not cumulative. */
  readonly latencyBuckets: readonly number[];
  /** [fine-latency bucket, requests] for the buckets that changed. */
  readonly fineLatency: readonly (readonly [number, number])[];
  /** Requests per status class, index 0 for a status below 100, then 1xx … 5xx. */
  readonly statusClasses: readonly number[];
  readonly cuts: Readonly<Record<ExchangeCut, number>>;
  readonly mirrored: number;
  readonly mirrorErrors: number;
}

/** The counts of `now` not in `before` (both snapshots of the same ProxyMetrics, `before` older). */
export function countsSince(now: SlotCounters, before: SlotCounters): SlotCountsDelta {
  const fineLatency: [number, number][] = [];
  for (let index = 0; index < FINE_LATENCY_BUCKETS; index += 1) {
    const added = now.fineLatency[index]! - before.fineLatency[index]!;
    if (added !== 0) fineLatency.push([index, added]);
  }
  const latencyBuckets: number[] = [];
  for (let index = 0; index <= LATENCY_BUCKETS_SECONDS.length; index += 1) {
    const cumulative = now.latencyBuckets[index]! - before.latencyBuckets[index]!;
    const below = index === 0 ? 0 : now.latencyBuckets[index - 1]! - before.latencyBuckets[index - 1]!;
    latencyBuckets.push(cumulative - below);
  }
  return {
    requests: now.requests - before.requests,
    errors: now.errors - before.errors,
    proxyErrors: now.proxyErrors - before.proxyErrors,
    latencySecondsSum: now.latencySecondsSum - before.latencySecondsSum,
    latencyBuckets,
    fineLatency,
    statusClasses: STATUS_CLASSES.map((_, index) => now.statusClasses[index]! - before.statusClasses[index]!),
    cuts: Object.fromEntries(EXCHANGE_CUTS.map((cut) => [cut, now.cuts[cut] - before.cuts[cut]])) as Record<
      ExchangeCut,
      number
    >,
    mirrored: now.mirrored - before.mirrored,
    mirrorErrors: now.mirrorErrors - before.mirrorErrors,
  };
}

/** True when the delta adds nothing (a worker skips the report). */
export function isEmptyDelta(delta: SlotCountsDelta): boolean {
  return delta.requests === 0 && delta.mirrored === 0 && delta.mirrorErrors === 0;
}
