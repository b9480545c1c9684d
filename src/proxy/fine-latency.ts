/**
 * A latency histogram fine enough to compare two slots' p50/p99: bucket bounds grow by 5% from
 * 0.1ms to about 2 minutes, so a quantile read from it is within 5% of the true value. The
 * Prometheus buckets (LATENCY_BUCKETS_SECONDS) are too coarse for that: 100ms and 130ms fall in
 * one of them. Kept beside them in the control plane only (fed by the workers' reports).
 */

const SMALLEST_SECONDS = 0.0001;
const GROWTH = 1.05;
/** 1.05^290 × 0.1ms ≈ 140s: above any request timeout. */
export const FINE_LATENCY_BUCKETS = 290;
const LOG_GROWTH = Math.log(GROWTH);

/** The bucket a duration falls in: 0 for ≤ 0.1ms, the last one for anything above its bound. */
export function fineLatencyBucket(seconds: number): number {
  if (!(seconds > SMALLEST_SECONDS)) return 0;
  const index = Math.ceil(Math.log(seconds / SMALLEST_SECONDS) / LOG_GROWTH);
  return Math.min(index, FINE_LATENCY_BUCKETS - 1);
}

/** The upper bound (seconds) of bucket `index`; bucket 0 holds everything up to 0.1ms. */
export function fineLatencyUpperBound(index: number): number {
  return SMALLEST_SECONDS * GROWTH ** index;
}
