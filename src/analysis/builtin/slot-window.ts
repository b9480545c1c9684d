/**
 * What one slot served during an analysis window: the difference of the router's cumulative
 * counters at the window's end and at its start. The counters only grow while the process
 * holding them runs; one that went down means they were reset in between (a restart of the
 * control plane, a reload of HAProxy), and then nothing is known about the window.
 */
import type { SlotTraffic } from '../../shared/slot-traffic.js';

export interface SlotWindow {
  readonly requests: number;
  /** 5xx answers, the upstream's and the proxy's own (a connection failure answers 502/503/504). */
  readonly errors: number;
  /** Of `errors`, the answers the proxy made because the upstream failed. */
  readonly proxyErrors: number;
  /** Requests per fine-latency bucket (not cumulative); null when the router keeps none. */
  readonly latency: readonly number[] | null;
}

export type WindowReading =
  { readonly kind: 'window'; readonly window: SlotWindow } | { readonly kind: 'reset' };

export function slotWindow(start: SlotTraffic, end: SlotTraffic): WindowReading {
  const requests = end.requests - start.requests;
  const errors = end.errors - start.errors;
  const proxyErrors = end.proxyErrors - start.proxyErrors;
  const latency = latencyWindow(start.fineLatency, end.fineLatency);
  const wentDown = requests < 0 || errors < 0 || proxyErrors < 0 || latency === 'reset';
  if (wentDown) return { kind: 'reset' };
  return { kind: 'window', window: { requests, errors, proxyErrors, latency } };
}

/** The latency buckets' difference; 'reset' when a count went down or the bucket count changed. */
function latencyWindow(
  start: readonly number[] | null,
  end: readonly number[] | null,
): readonly number[] | null | 'reset' {
  if (start === null && end === null) return null;
  if (start === null || end === null || start.length !== end.length) return 'reset';
  const latency = end.map((count, index) => count - start[index]!);
  return latency.some((count) => count < 0) ? 'reset' : latency;
}
