import { fineLatencyUpperBound } from '../../proxy/fine-latency.js';

/**
 * The `q` quantile (0 < q ≤ 1) of a fine-latency histogram (requests per bucket, not
 * cumulative), in seconds, interpolated inside its bucket; null when the histogram is empty or
 * there is none (a router that keeps no latency distribution).
 */
export function latencyQuantile(buckets: readonly number[] | null, q: number): number | null {
  if (buckets === null) return null;
  const total = buckets.reduce((sum, count) => sum + count, 0);
  if (!(total > 0)) return null;
  const rank = q * total;
  let below = 0;
  for (let index = 0; index < buckets.length; index += 1) {
    const count = buckets[index]!;
    if (count > 0 && below + count >= rank) {
      const lower = index === 0 ? 0 : fineLatencyUpperBound(index - 1);
      const upper = fineLatencyUpperBound(index);
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return fineLatencyUpperBound(buckets.length - 1);
}
