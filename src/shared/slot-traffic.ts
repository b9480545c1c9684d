/**
 * What a router can tell about the traffic each slot served, as counters that only grow: the
 * builtin proxy's own (summed over its workers), HAProxy's `show stat`. The builtin analysis
 * reads them at a window's start and end and compares the slots over that window.
 */
import type { Slot } from './slot.js';

export interface SlotTraffic {
  /** Requests the slot was asked to answer, connection failures included. */
  readonly requests: number;
  /** 5xx answers, the upstream's and the router's own, and requests whose connection failed. */
  readonly errors: number;
  /** Of `errors`, those the router made because the upstream failed (connect, reset, timeout). */
  readonly proxyErrors: number;
  /**
   * Requests per fine-latency bucket (proxy/fine-latency.ts, not cumulative); null when the
   * router keeps no latency distribution (HAProxy has averages only): p50/p99 are not compared.
   */
  readonly fineLatency: readonly number[] | null;
}

/** Where the counters come from, named for the findings ("builtin proxy", "haproxy show stat"). */
export interface SlotTrafficSource {
  readonly name: string;
  /** The counters now; rejects (CUTOVER_E_ROUTER …) when the router cannot be read. */
  read(): Promise<Record<Slot, SlotTraffic>>;
}
