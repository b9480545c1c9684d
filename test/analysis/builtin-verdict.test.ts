/**
 * The builtin provider's maths: windows from two snapshots of the proxy's counters, quantiles
 * from the fine histogram, and the verdict — with hostile windows (no requests, counters that
 * went down after a restart, an old slot with no traffic, huge counts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareSlots, type Thresholds } from '../../src/analysis/builtin/compare-slots.js';
import { latencyQuantile } from '../../src/analysis/builtin/latency-quantile.js';
import { slotWindow, type WindowReading } from '../../src/analysis/builtin/slot-window.js';
import { FINE_LATENCY_BUCKETS, fineLatencyBucket } from '../../src/proxy/fine-latency.js';
import { ProxyMetrics, type SlotCounters } from '../../src/proxy/metrics.js';

const THRESHOLDS: Thresholds = {
  minRequests: 50,
  maxErrorRate: 0.01,
  maxErrorRateIncrease: undefined,
  maxP99Increase: 0.2,
  maxP50Increase: undefined,
  minLatencyIncrease: 25,
};

/** A window of `requests` answers, `errors` of them 5xx, each taking `latencyMs`. */
function reading(
  requests: number,
  errors: number,
  latencyMs: number | ((i: number) => number),
): WindowReading {
  const metrics = new ProxyMetrics();
  const start = metrics.snapshot().green;
  for (let i = 0; i < requests; i += 1) {
    const ms = typeof latencyMs === 'number' ? latencyMs : latencyMs(i);
    metrics.record('green', i < errors ? 500 : 200, ms / 1000, false);
  }
  return slotWindow(start, metrics.snapshot().green);
}

const verdict = (newer: WindowReading, older: WindowReading | null, thresholds = THRESHOLDS) =>
  compareSlots(
    'builtin',
    { slot: 'green', reading: newer },
    older && { slot: 'blue', reading: older },
    thresholds,
  );

void describe('builtin analysis: windows and quantiles', () => {
  void test('AWindow_IsTheDifferenceOfTwoSnapshots', () => {
    const metrics = new ProxyMetrics();
    metrics.record('blue', 200, 0.01, false);
    const start = metrics.snapshot().blue;
    metrics.record('blue', 502, 0.02, true);
    metrics.record('blue', 200, 0.03, false);
    const read = slotWindow(start, metrics.snapshot().blue);
    assert.equal(read.kind, 'window');
    assert.equal(read.window.requests, 2);
    assert.equal(read.window.errors, 1);
    assert.equal(read.window.proxyErrors, 1);
    assert.equal(
      read.window.latency?.reduce((sum, count) => sum + count, 0),
      2,
    );
  });

  void test('ACounterThatWentDown_MeansARestart_TheWindowIsUnknown', () => {
    const metrics = new ProxyMetrics();
    for (let i = 0; i < 100; i += 1) metrics.record('green', 200, 0.01, false);
    const before = metrics.snapshot().green;
    const restarted = new ProxyMetrics();
    restarted.record('green', 500, 0.01, false);
    assert.deepEqual(slotWindow(before, restarted.snapshot().green), { kind: 'reset' });
    const found = verdict(slotWindow(before, restarted.snapshot().green), reading(100, 0, 5));
    assert.equal(found.verdict, 'inconclusive');
    assert.match(found.reason, /reset/);
  });

  void test('OnlyTheHistogramWentDown_StillAReset', () => {
    const metrics = new ProxyMetrics();
    metrics.record('green', 200, 0.01, false);
    const start = metrics.snapshot().green;
    const tampered: SlotCounters = { ...start, fineLatency: start.fineLatency.map(() => 0) };
    const end = { ...start, requests: start.requests + 1, fineLatency: tampered.fineLatency };
    assert.equal(slotWindow(start, end).kind, 'reset');
    assert.equal(slotWindow(start, { ...start, fineLatency: [1] }).kind, 'reset');
  });

  void test('ALatencyDistributionOnOneSideOnly_IsAReset', () => {
    const counters = { requests: 5, errors: 0, proxyErrors: 0 };
    const histogram = { ...counters, fineLatency: [1, 2, 2] };
    const none = { ...counters, fineLatency: null };
    assert.equal(slotWindow(none, histogram).kind, 'reset');
    assert.equal(slotWindow(histogram, none).kind, 'reset');
    const both = slotWindow(none, { ...none, requests: 9 });
    assert.ok(both.kind === 'window');
    assert.equal(both.window.latency, null);
  });

  void test('Quantiles_AreWithinFivePercentOfTheTruth', () => {
    for (const ms of [0.3, 1, 7, 100, 130, 260, 5000]) {
      const counts = new Array<number>(FINE_LATENCY_BUCKETS).fill(0);
      counts[fineLatencyBucket(ms / 1000)] = 1000;
      for (const q of [0.5, 0.99]) {
        const value = latencyQuantile(counts, q)! * 1000;
        assert.ok(Math.abs(value - ms) <= ms * 0.05 + 0.1, `${ms}ms read as ${value}ms at q=${q}`);
      }
    }
  });

  void test('Quantiles_OfNothing_AreNull_AndHostileDurationsLandInABucket', () => {
    assert.equal(latencyQuantile(new Array<number>(FINE_LATENCY_BUCKETS).fill(0), 0.99), null);
    assert.equal(latencyQuantile([], 0.5), null);
    for (const seconds of [0, -1, NaN, Infinity, 1e9, 1e-12]) {
      const bucket = fineLatencyBucket(seconds);
      assert.ok(bucket >= 0 && bucket < FINE_LATENCY_BUCKETS, `${seconds}s → bucket ${bucket}`);
    }
  });

  void test('P99_SeesTheSlowTail_P50_TheMiddle', () => {
    const counts = new Array<number>(FINE_LATENCY_BUCKETS).fill(0);
    counts[fineLatencyBucket(0.01)] = 980;
    counts[fineLatencyBucket(1)] = 20;
    assert.ok(latencyQuantile(counts, 0.5)! < 0.011);
    assert.ok(latencyQuantile(counts, 0.99)! > 0.9);
  });
});

void describe('builtin analysis: verdicts', () => {
  void test('ZeroRequests_IsInconclusive_NamingMinRequests', () => {
    const found = verdict(reading(0, 0, 1), reading(0, 0, 1));
    assert.equal(found.verdict, 'inconclusive');
    assert.equal(found.measure, 'requests');
    assert.equal(found.observed, 0);
    assert.equal(found.threshold, 50);
    assert.match(found.reason, /fewer than minRequests 50/);
  });

  void test('FewerThanMinRequests_EvenAllFailing_IsInconclusive', () => {
    assert.equal(verdict(reading(49, 49, 1), reading(500, 0, 1)).verdict, 'inconclusive');
  });

  void test('FivePercentErrors_FailsOnMaxErrorRate_WithTheValues', () => {
    const found = verdict(reading(400, 20, 2), reading(3600, 0, 2));
    assert.equal(found.verdict, 'fail');
    assert.equal(found.measure, 'error rate');
    assert.equal(found.observed, '5%');
    assert.equal(found.threshold, '1%');
    assert.match(found.reason, /green answered 20 of 400 requests with an error/);
  });

  void test('ExactlyAtTheThreshold_Passes', () => {
    assert.equal(verdict(reading(100, 1, 2), reading(100, 0, 2)).verdict, 'pass');
  });

  void test('AHealthySlot_Passes_WithBothSlotsInTheReason', () => {
    const found = verdict(reading(200, 0, 3), reading(1800, 1, 3));
    assert.equal(found.verdict, 'pass');
    assert.match(found.reason, /green: 200 requests, 0% errors/);
    assert.match(found.reason, /blue: 1800 requests/);
  });

  void test('AnOldSlotWithoutTraffic_JudgesOnTheAbsoluteThresholdAlone', () => {
    const slow = verdict(reading(500, 0, 900), reading(0, 0, 1));
    assert.equal(slow.verdict, 'pass');
    assert.match(slow.reason, /blue served 0 requests, too few to compare with/);
    assert.equal(verdict(reading(500, 0, 900), null).verdict, 'pass');
    assert.equal(verdict(reading(500, 50, 9), null).verdict, 'fail');
  });

  void test('ThirtyPercentSlowerP99_Fails_NamingBothValues', () => {
    const found = verdict(reading(300, 0, 260), reading(2700, 0, 200));
    assert.equal(found.verdict, 'fail');
    assert.equal(found.measure, 'p99 latency increase');
    assert.match(String(found.observed), /^\d+ms against \d+ms \(\+\d+(\.\d+)?%\)$/);
    assert.equal(found.threshold, '+20%');
  });

  void test('AP99IncreaseUnderTheNoiseFloor_DoesNotFail', () => {
    // 4ms against 2ms is +100%, but 2ms of jitter is not a slower release.
    assert.equal(verdict(reading(300, 0, 4), reading(300, 0, 2)).verdict, 'pass');
    const strict = { ...THRESHOLDS, minLatencyIncrease: 0 };
    assert.equal(verdict(reading(300, 0, 4), reading(300, 0, 2), strict).verdict, 'fail');
  });

  void test('ErrorRateIncrease_ComparesPercentagePoints_WhenSet', () => {
    const thresholds = { ...THRESHOLDS, maxErrorRate: 0.5, maxErrorRateIncrease: 0.02 };
    const found = verdict(reading(100, 5, 2), reading(100, 1, 2), thresholds);
    assert.equal(found.verdict, 'fail');
    assert.equal(found.measure, 'error rate increase');
    assert.equal(found.observed, '5% against 1%');
    assert.equal(verdict(reading(100, 2, 2), reading(100, 1, 2), thresholds).verdict, 'pass');
  });

  void test('P50Increase_WhenSet_FailsOnTheMedian', () => {
    const thresholds = { ...THRESHOLDS, maxP50Increase: 0.1 };
    const found = verdict(
      reading(100, 0, (i) => (i < 60 ? 200 : 50)),
      reading(100, 0, (i) => (i < 40 ? 200 : 50)),
      thresholds,
    );
    assert.equal(found.verdict, 'fail');
    assert.equal(found.measure, 'p50 latency increase');
  });

  void test('HugeCounts_StayFinite', () => {
    const metrics = new ProxyMetrics();
    const start = metrics.snapshot().green;
    const big = 2 ** 52;
    const end: SlotCounters = {
      ...start,
      requests: big,
      errors: big / 2,
      fineLatency: start.fineLatency.map((_, i) => (i === 10 ? big : 0)),
    };
    const found = verdict(slotWindow(start, end), null);
    assert.equal(found.verdict, 'fail');
    assert.equal(found.observed, '50%');
  });
});
