/**
 * The verdict of the builtin provider: the new slot's window against the absolute thresholds,
 * then against the old slot's window (the same time span, the same proxy) for the relative
 * ones. Checked in this order, the first crossed threshold fails:
 *   1. counters reset during the window → inconclusive (nothing is known about it);
 *   2. the new slot served fewer than minRequests → inconclusive (too thin to judge);
 *   3. its error rate above maxErrorRate → fail;
 *   4. when the old slot served at least minRequests too: its error rate exceeded by more than
 *      maxErrorRateIncrease points, its p99 (p50) exceeded by more than maxP99Increase
 *      (maxP50Increase) and by at least minLatencyIncrease → fail;
 *   5. otherwise pass. When the old slot served too little to compare with (the last step of a
 *      shift, the bake: it has no traffic), the absolute threshold alone decides, and the
 *      reason says so.
 */
import type { AnalysisFinding } from '../../shared/analysis.js';
import { formatDuration } from '../../shared/duration.js';
import type { Slot } from '../../shared/slot.js';
import type { BuiltinAnalysisConfig } from './config.js';
import { latencyQuantile } from './latency-quantile.js';
import { formatPercent } from './percent.js';
import type { WindowReading, SlotWindow } from './slot-window.js';

export type Thresholds = Pick<
  BuiltinAnalysisConfig,
  | 'minRequests'
  | 'maxErrorRate'
  | 'maxErrorRateIncrease'
  | 'maxP99Increase'
  | 'maxP50Increase'
  | 'minLatencyIncrease'
>;

export interface SlotReading {
  readonly slot: Slot;
  readonly reading: WindowReading;
}

export function compareSlots(
  provider: string,
  newer: SlotReading,
  older: SlotReading | null,
  thresholds: Thresholds,
): AnalysisFinding {
  if (newer.reading.kind === 'reset' || older?.reading.kind === 'reset') {
    return {
      verdict: 'inconclusive',
      provider,
      measure: 'requests',
      observed: null,
      threshold: null,
      reason:
        "the proxy's counters went down during the window (they were reset by a restart): nothing is known about it",
    };
  }
  const fresh = newer.reading.window;
  if (fresh.requests < thresholds.minRequests) {
    return {
      verdict: 'inconclusive',
      provider,
      measure: 'requests',
      observed: fresh.requests,
      threshold: thresholds.minRequests,
      reason: `${newer.slot} served ${fresh.requests} requests in the window, fewer than minRequests ${thresholds.minRequests}: too little traffic to judge`,
    };
  }
  const freshRate = errorRate(fresh);
  if (freshRate > thresholds.maxErrorRate) {
    return {
      verdict: 'fail',
      provider,
      measure: 'error rate',
      observed: formatPercent(freshRate),
      threshold: formatPercent(thresholds.maxErrorRate),
      reason: `${newer.slot} answered ${fresh.errors} of ${fresh.requests} requests with an error, above maxErrorRate`,
    };
  }
  const old = older?.reading.kind === 'window' ? older.reading.window : null;
  if (old === null || old.requests < thresholds.minRequests) {
    const why =
      older === null
        ? 'no old slot to compare with'
        : `${older.slot} served ${old?.requests ?? 0} requests, too few to compare with`;
    return {
      verdict: 'pass',
      provider,
      measure: 'error rate',
      observed: formatPercent(freshRate),
      threshold: formatPercent(thresholds.maxErrorRate),
      reason: `${summary(newer.slot, fresh)}; ${why}: judged on maxErrorRate alone`,
    };
  }
  return compareWithOld(
    provider,
    { slot: newer.slot, window: fresh },
    { slot: older!.slot, window: old },
    thresholds,
  );
}

function compareWithOld(
  provider: string,
  fresh: { slot: Slot; window: SlotWindow },
  old: { slot: Slot; window: SlotWindow },
  thresholds: Thresholds,
): AnalysisFinding {
  const freshRate = errorRate(fresh.window);
  const oldRate = errorRate(old.window);
  const both = `${summary(fresh.slot, fresh.window)}; ${summary(old.slot, old.window)}`;
  if (
    thresholds.maxErrorRateIncrease !== undefined &&
    freshRate - oldRate > thresholds.maxErrorRateIncrease
  ) {
    return {
      verdict: 'fail',
      provider,
      measure: 'error rate increase',
      observed: `${formatPercent(freshRate)} against ${formatPercent(oldRate)}`,
      threshold: `+${formatPercent(thresholds.maxErrorRateIncrease)}`,
      reason: `${fresh.slot}'s error rate exceeds ${old.slot}'s by more than maxErrorRateIncrease: ${both}`,
    };
  }
  const latencies: { measure: string; q: number; limit: number | undefined; key: string }[] = [
    { measure: 'p99 latency', q: 0.99, limit: thresholds.maxP99Increase, key: 'maxP99Increase' },
    { measure: 'p50 latency', q: 0.5, limit: thresholds.maxP50Increase, key: 'maxP50Increase' },
  ];
  for (const { measure, q, limit, key } of latencies) {
    if (limit === undefined) continue;
    const freshLatency = latencyQuantile(fresh.window.latency, q);
    const oldLatency = latencyQuantile(old.window.latency, q);
    if (freshLatency === null || oldLatency === null) continue;
    const increaseMs = (freshLatency - oldLatency) * 1000;
    if (freshLatency > oldLatency * (1 + limit) && increaseMs >= thresholds.minLatencyIncrease) {
      return {
        verdict: 'fail',
        provider,
        measure: `${measure} increase`,
        observed: `${ms(freshLatency)} against ${ms(oldLatency)} (+${formatPercent(freshLatency / oldLatency - 1)})`,
        threshold: `+${formatPercent(limit)}`,
        reason: `${fresh.slot}'s ${measure} exceeds ${old.slot}'s by more than ${key}: ${both}`,
      };
    }
  }
  return {
    verdict: 'pass',
    provider,
    measure: 'error rate',
    observed: formatPercent(freshRate),
    threshold: formatPercent(thresholds.maxErrorRate),
    reason: `${both}: within every threshold${fresh.window.latency === null || old.window.latency === null ? '; latency not compared: the router keeps no latency distribution' : ''}`,
  };
}

function errorRate(window: SlotWindow): number {
  return window.requests === 0 ? 0 : window.errors / window.requests;
}

function summary(slot: Slot, window: SlotWindow): string {
  const p50 = latencyQuantile(window.latency, 0.5);
  const p99 = latencyQuantile(window.latency, 0.99);
  const latency = p50 === null || p99 === null ? '' : `, p50 ${ms(p50)}, p99 ${ms(p99)}`;
  const failures = window.proxyErrors > 0 ? ` (${window.proxyErrors} connection failures)` : '';
  return `${slot}: ${window.requests} requests, ${formatPercent(errorRate(window))} errors${failures}${latency}`;
}

/** Latency as people read it, to the millisecond (a tenth below 10ms). */
function ms(seconds: number): string {
  const value = seconds * 1000;
  return value < 10 ? `${value.toFixed(1)}ms` : formatDuration(value);
}
