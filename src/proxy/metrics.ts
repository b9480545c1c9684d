/**
 * Per-slot counters the server exports (it wires them to Prometheus; the proxy stays free of
 * prom-client). Cheap to update on the hot path: plain numbers, no allocation.
 */
import type { Slot } from '../shared/slot.js';
import type { SlotCountsDelta } from './counts-delta.js';
import { FINE_LATENCY_BUCKETS, fineLatencyBucket } from './fine-latency.js';

export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface SlotCounters {
  /** Requests answered (any status, proxy errors included). */
  readonly requests: number;
  /** Responses with status >= 500, whether from the upstream or from the proxy. */
  readonly errors: number;
  /** Answers the proxy made itself because the upstream failed (502/503/504). */
  readonly proxyErrors: number;
  readonly latencySecondsSum: number;
  /** Cumulative counts per LATENCY_BUCKETS_SECONDS bound (Prometheus histogram shape), plus +Inf last. */
  readonly latencyBuckets: readonly number[];
  /** Requests per fine-latency.ts bucket (not cumulative), for the analysis of p50/p99. */
  readonly fineLatency: readonly number[];
  /** Requests per status class: index 0 for a status below 100, then 1xx … 5xx (STATUS_CLASSES). */
  readonly statusClasses: readonly number[];
  /** Requests cut short, per reason. */
  readonly cuts: Readonly<Record<ExchangeCut, number>>;
  readonly mirrored: number;
  readonly mirrorErrors: number;
}

/** The `code_class` label of each statusClasses index. */
export const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * Why an exchange ended without forwarding's whole response, when the client is the reason
 * (stable names: a /metrics label):
 * - `client-closed`: the client went away before its response was complete (recorded as 499);
 * - `client-body-incomplete`: the client went away before its request body was all sent (499):
 *   the upstream never saw that body end, and its connection was closed;
 * - `refused`: the proxy refused the request while its body arrived, with the status recorded:
 *   408 for a body that missed its limits (body-deadline.ts), 400 for a malformed chunked body.
 */
export const EXCHANGE_CUTS = ['client-closed', 'client-body-incomplete', 'refused'] as const;
export type ExchangeCut = (typeof EXCHANGE_CUTS)[number];

/** One proxy worker's share of the requests (the builtin router runs the proxy in several processes). */
export interface WorkerCounts {
  /** The worker's pid, as a label. */
  readonly worker: string;
  readonly slot: Slot;
  readonly requests: number;
  readonly errors: number;
}

/** Workers whose counts are kept; a control plane that replaced more than this forgets the oldest. */
const MAX_WORKERS_KEPT = 256;

class MutableCounters {
  requests = 0;
  errors = 0;
  proxyErrors = 0;
  latencySecondsSum = 0;
  /** Non-cumulative per bucket; made cumulative in snapshot(). */
  readonly buckets = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  readonly fineLatency = new Float64Array(FINE_LATENCY_BUCKETS);
  readonly statusClasses = new Float64Array(STATUS_CLASSES.length);
  readonly cuts: Record<ExchangeCut, number> = {
    'client-closed': 0,
    'client-body-incomplete': 0,
    refused: 0,
  };
  mirrored = 0;
  mirrorErrors = 0;
}

export class ProxyMetrics {
  private readonly counters: Record<Slot, MutableCounters> = {
    blue: new MutableCounters(),
    green: new MutableCounters(),
  };
  /** Per worker and slot: [requests, errors], when requests are recorded with recordWorker(). */
  private readonly workers = new Map<string, Record<Slot, [number, number]>>();
  /** Client connections closed at accept because a listener was at its maxConnections. */
  private readonly refused: Record<'live' | 'preview', number> = { live: 0, preview: 0 };

  record(
    slot: Slot,
    status: number,
    durationSeconds: number,
    proxyError: boolean,
    cut: ExchangeCut | undefined = undefined,
  ): void {
    const counters = this.counters[slot];
    counters.requests += 1;
    if (status >= 500) counters.errors += 1;
    if (proxyError) counters.proxyErrors += 1;
    counters.latencySecondsSum += durationSeconds;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_SECONDS.length && durationSeconds > LATENCY_BUCKETS_SECONDS[bucket]!)
      bucket += 1;
    counters.buckets[bucket]! += 1;
    counters.fineLatency[fineLatencyBucket(durationSeconds)]! += 1;
    counters.statusClasses[statusClass(status)]! += 1;
    if (cut !== undefined) counters.cuts[cut] += 1;
  }

  /** Adds a proxy worker's report (its counts since its previous one) to these counters. */
  add(slot: Slot, delta: SlotCountsDelta): void {
    const counters = this.counters[slot];
    counters.requests += delta.requests;
    counters.errors += delta.errors;
    counters.proxyErrors += delta.proxyErrors;
    counters.latencySecondsSum += delta.latencySecondsSum;
    delta.latencyBuckets.forEach((count, index) => {
      if (index < counters.buckets.length) counters.buckets[index]! += count;
    });
    for (const [index, count] of delta.fineLatency) {
      if (index >= 0 && index < FINE_LATENCY_BUCKETS) counters.fineLatency[index]! += count;
    }
    delta.statusClasses.forEach((count, index) => {
      if (index < counters.statusClasses.length) counters.statusClasses[index]! += count;
    });
    for (const cut of EXCHANGE_CUTS) counters.cuts[cut] += delta.cuts[cut];
    counters.mirrored += delta.mirrored;
    counters.mirrorErrors += delta.mirrorErrors;
  }

  /** Counts requests the worker `worker` answered (on top of what record() or add() sums over every worker). */
  recordWorker(worker: string, slot: Slot, requests: number, errors: number): void {
    let counts = this.workers.get(worker);
    if (counts === undefined) {
      if (this.workers.size >= MAX_WORKERS_KEPT) this.workers.delete(this.workers.keys().next().value!);
      counts = { blue: [0, 0], green: [0, 0] };
      this.workers.set(worker, counts);
    }
    counts[slot][0] += requests;
    counts[slot][1] += errors;
  }

  /** Requests and 5xx answers per worker and slot (empty when the proxy runs in one process). */
  perWorker(): WorkerCounts[] {
    const rows: WorkerCounts[] = [];
    for (const [worker, counts] of this.workers) {
      for (const slot of ['blue', 'green'] as const) {
        rows.push({ worker, slot, requests: counts[slot][0], errors: counts[slot][1] });
      }
    }
    return rows;
  }

  recordMirror(slot: Slot, failed: boolean): void {
    if (failed) this.counters[slot].mirrorErrors += 1;
    else this.counters[slot].mirrored += 1;
  }

  recordRefusedConnection(listener: 'live' | 'preview'): void {
    this.refused[listener] += 1;
  }

  /** Client connections refused at accept so far, per listener. */
  refusedConnections(): Readonly<Record<'live' | 'preview', number>> {
    return { live: this.refused.live, preview: this.refused.preview };
  }

  snapshot(): Record<Slot, SlotCounters> {
    return { blue: this.slotSnapshot('blue'), green: this.slotSnapshot('green') };
  }

  private slotSnapshot(slot: Slot): SlotCounters {
    const counters = this.counters[slot];
    const cumulative: number[] = [];
    let running = 0;
    for (const count of counters.buckets) {
      running += count;
      cumulative.push(running);
    }
    return {
      requests: counters.requests,
      errors: counters.errors,
      proxyErrors: counters.proxyErrors,
      latencySecondsSum: counters.latencySecondsSum,
      latencyBuckets: cumulative,
      fineLatency: [...counters.fineLatency],
      statusClasses: [...counters.statusClasses],
      cuts: { ...counters.cuts },
      mirrored: counters.mirrored,
      mirrorErrors: counters.mirrorErrors,
    };
  }
}

/** The STATUS_CLASSES index of a status. */
function statusClass(status: number): number {
  return Math.max(0, Math.min(STATUS_CLASSES.length - 1, Math.floor(status / 100)));
}
