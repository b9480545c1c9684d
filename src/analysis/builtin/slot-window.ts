/**
 * What one slot served during an analysis window: the difference of the proxy's cumulative
 * counters at the window's end and at its start. The counters only grow while one control plane
 * runs; one that went down means they were reset in between (a restart of the process holding
 * them), and then nothing is known about the window.
 */
import type { SlotCounters } from '../../proxy/metrics.js';

export interface SlotWindow {
  readonly requests: number;
  /** 5xx answers, the upstream's and the proxy's own (a connection failure answers 502/503/504). */
  readonly errors: number;
  /** Of `errors`, the answers the proxy made because the upstream failed. */
  readonly proxyErrors: number;
  /** Requests per fine-latency bucket (not cumulative). */
  readonly latency: readonly number[];
}

export type WindowReading =
  { readonly kind: 'window'; readonly window: SlotWindow } | { readonly kind: 'reset' };

export function slotWindow(start: SlotCounters, end: SlotCounters): WindowReading {
  const requests = end.requests - start.requests;
  const errors = end.errors - start.errors;
  const proxyErrors = end.proxyErrors - start.proxyErrors;
  const latency = end.fineLatency.map((count, index) => count - (start.fineLatency[index] ?? 0));
  const wentDown =
    requests < 0 ||
    errors < 0 ||
    proxyErrors < 0 ||
    latency.some((count) => count < 0) ||
    end.fineLatency.length !== start.fineLatency.length;
  if (wentDown) return { kind: 'reset' };
  return { kind: 'window', window: { requests, errors, proxyErrors, latency } };
}
