/**
 * Per-slot request rate, error rate and p50/p99 latency over the last few seconds, from the
 * Prometheus series the builtin proxy feeds (`cutover_proxy_*`). Any router that feeds the same
 * series shows up the same way; with none, `available` is false and the page says so.
 */
import type { Registry } from 'prom-client';
import { SLOTS, type Slot } from '../shared/slot.js';

export interface SlotRates {
  readonly requestsPerSecond: number;
  /** Share of the window's requests answered >= 500, 0..1; null with no requests. */
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface MetricsSample {
  readonly available: boolean;
  readonly windowSeconds: number;
  readonly slots: Record<Slot, SlotRates>;
}

interface Totals {
  readonly at: number;
  readonly requests: number;
  readonly errors: number;
  /** Cumulative counts per bucket bound, in `bounds` order (+Inf last). */
  readonly buckets: readonly number[];
}

const WINDOW_MS = 5000;

/** The q-quantile (0..1) of a histogram window: linear inside the bucket it falls in. */
export function quantileFromBuckets(
  bounds: readonly number[],
  cumulative: readonly number[],
  q: number,
): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let index = 0; index < cumulative.length; index += 1) {
    const count = cumulative[index]!;
    if (count < rank) continue;
    const upper = bounds[index];
    const lower = index === 0 ? 0 : bounds[index - 1]!;
    // Past the last finite bound: the bound is the best that can be said.
    if (upper === undefined || !Number.isFinite(upper)) return lower;
    const below = index === 0 ? 0 : cumulative[index - 1]!;
    const inBucket = count - below;
    return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return bounds[bounds.length - 1] ?? null;
}

export class SlotMetricsSampler {
  private readonly history: Array<Record<Slot, Totals>> = [];
  private bounds: number[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly now: () => number = Date.now,
  ) {}

  async sample(): Promise<MetricsSample> {
    const requests = this.registry.getSingleMetric('cutover_proxy_requests_total');
    const latency = this.registry.getSingleMetric('cutover_proxy_request_duration_seconds');
    if (!requests || !latency) return { available: false, windowSeconds: 0, slots: emptySlots() };
    const [requestValues, latencyValues] = await Promise.all([requests.get(), latency.get()]);
    const at = this.now();
    const totals = {} as Record<Slot, Totals>;
    for (const slot of SLOTS) {
      let count = 0;
      let errors = 0;
      for (const value of requestValues.values) {
        if (value.labels.slot !== slot) continue;
        count += value.value;
        if (value.labels.code_class === '5xx') errors += value.value;
      }
      const buckets = latencyValues.values
        .filter(
          (value) =>
            (value as { metricName?: string }).metricName?.endsWith('_bucket') && value.labels.slot === slot,
        )
        .map((value) => ({
          le: value.labels.le === '+Inf' ? Infinity : Number(value.labels.le),
          count: value.value,
        }))
        .sort((a, b) => a.le - b.le);
      this.bounds = buckets.map((bucket) => bucket.le);
      totals[slot] = { at, requests: count, errors, buckets: buckets.map((bucket) => bucket.count) };
    }
    this.history.push(totals);
    while (this.history.length > 1 && at - this.history[0]![SLOTS[0]].at > WINDOW_MS) this.history.shift();
    const oldest = this.history[0]!;
    const seconds = Math.max((at - oldest[SLOTS[0]].at) / 1000, 0);
    const slots = {} as Record<Slot, SlotRates>;
    for (const slot of SLOTS) slots[slot] = this.rates(oldest[slot], totals[slot], seconds);
    return { available: true, windowSeconds: seconds, slots };
  }

  private rates(from: Totals, to: Totals, seconds: number): SlotRates {
    const requests = to.requests - from.requests;
    const errors = to.errors - from.errors;
    const window = to.buckets.map((count, index) => count - (from.buckets[index] ?? 0));
    const toMs = (value: number | null): number | null => (value === null ? null : value * 1000);
    return {
      requestsPerSecond: seconds > 0 ? requests / seconds : 0,
      errorRate: requests > 0 ? errors / requests : null,
      p50Ms: toMs(quantileFromBuckets(this.bounds, window, 0.5)),
      p99Ms: toMs(quantileFromBuckets(this.bounds, window, 0.99)),
    };
  }
}

function emptySlots(): Record<Slot, SlotRates> {
  const none: SlotRates = { requestsPerSecond: 0, errorRate: null, p50Ms: null, p99Ms: null };
  return { blue: none, green: none };
}
