/**
 * The builtin provider over a window: the first check of a window reads the counters (its
 * start), later checks judge what each slot served since; a new window starts from its own
 * reading; without the builtin router's counters it cannot answer (the engine makes that
 * inconclusive, never a failure).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinAnalysis } from '../../src/analysis/builtin/index.js';
import { builtinAnalysisConfig } from '../../src/analysis/builtin/config.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import type { AnalysisRequest } from '../../src/shared/analysis.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';

const config = builtinAnalysisConfig.parse({ kind: 'builtin', minRequests: 10 });
const request = (windowStart: string, step = 0): AnalysisRequest => ({
  deploymentId: 'd-1',
  app: 'web',
  release: 'v2',
  newSlot: 'green',
  oldSlot: 'blue',
  oldRelease: 'v1',
  stage: 'shift',
  step,
  window: { start: windowStart, end: new Date().toISOString() },
  signal: new AbortController().signal,
});
const serve = (metrics: ProxyMetrics, slot: 'blue' | 'green', count: number, status: number): void => {
  for (let i = 0; i < count; i += 1) metrics.record(slot, status, 0.01, false);
};

void describe('builtin provider', () => {
  void test('TheFirstCheckReadsTheStart_LaterChecksJudgeOnlyWhatCameAfter', async () => {
    const metrics = new ProxyMetrics();
    // Errors before the window belong to someone else's window.
    serve(metrics, 'green', 100, 500);
    const provider = await builtinAnalysis.create(config, {
      logger: silentLogger,
      slotTraffic: { name: 'builtin proxy', read: () => Promise.resolve(metrics.snapshot()) },
    });
    const first = await provider.check(request('2026-12-05T10:00:00.000Z'));
    assert.equal(first.verdict, 'inconclusive');
    assert.match(first.reason, /window starts/);
    serve(metrics, 'green', 20, 200);
    serve(metrics, 'blue', 20, 200);
    assert.equal((await provider.check(request('2026-12-05T10:00:00.000Z'))).verdict, 'pass');
    serve(metrics, 'green', 5, 500);
    const failed = await provider.check(request('2026-12-05T10:00:00.000Z'));
    assert.equal(failed.verdict, 'fail');
    assert.equal(failed.observed, '20%');

    // The next step is a window of its own: it starts from its own reading.
    assert.equal((await provider.check(request('2026-12-05T10:00:05.000Z', 1))).verdict, 'inconclusive');
    serve(metrics, 'green', 20, 200);
    assert.equal((await provider.check(request('2026-12-05T10:00:05.000Z', 1))).verdict, 'pass');
  });

  void test('ARouterWithoutALatencyDistribution_IsJudgedOnErrors_AndTheReasonSaysLatencyWasNotCompared', async () => {
    let green = { requests: 0, errors: 0, proxyErrors: 0, fineLatency: null };
    let blue = { ...green };
    const provider = await builtinAnalysis.create(config, {
      logger: silentLogger,
      slotTraffic: { name: 'haproxy show stat', read: () => Promise.resolve({ blue, green }) },
    });
    const first = await provider.check(request('2026-12-05T11:00:00.000Z'));
    assert.match(first.reason, /haproxy show stat's counters are read now/);
    green = { requests: 40, errors: 0, proxyErrors: 0, fineLatency: null };
    blue = { requests: 40, errors: 0, proxyErrors: 0, fineLatency: null };
    const passed = await provider.check(request('2026-12-05T11:00:00.000Z'));
    assert.equal(passed.verdict, 'pass');
    assert.match(passed.reason, /latency not compared: the router keeps no latency distribution/);
    green = { requests: 80, errors: 4, proxyErrors: 4, fineLatency: null };
    const failed = await provider.check(request('2026-12-05T11:00:00.000Z'));
    assert.equal(failed.verdict, 'fail');
    assert.equal(failed.measure, 'error rate');
  });

  void test('ACounterSourceThatFails_IsAProviderError_NamingTheSource_NeverAFailedVerdict', async () => {
    const provider = await builtinAnalysis.create(config, {
      logger: silentLogger,
      slotTraffic: {
        name: 'haproxy show stat',
        read: () => Promise.reject(new Error('HAProxy runtime API at /run/h.sock is not reachable')),
      },
    });
    await assert.rejects(provider.check(request('2026-12-05T12:00:00.000Z')), (error) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_ANALYSIS_PROVIDER'));
      assert.match(error.message, /haproxy show stat's counters could not be read: HAProxy runtime API/);
      return true;
    });
  });

  void test('WithoutTheBuiltinRoutersCounters_ItRejectsWithAProviderError', async () => {
    const provider = await builtinAnalysis.create(config, { logger: silentLogger });
    await assert.rejects(provider.check(request('2026-12-05T10:00:00.000Z')), (error) =>
      isCutoverError(error, 'CUTOVER_E_ANALYSIS_PROVIDER'),
    );
  });
});
