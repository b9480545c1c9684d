import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { quantileFromBuckets, SlotMetricsSampler } from '../../src/dashboard/slot-metrics.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { exportProxyMetrics } from '../../src/server/proxy-metrics-exporter.js';

describe('slot metrics for the dashboard', () => {
  it('interpolates a quantile inside the bucket it falls in', () => {
    const bounds = [0.1, 0.2, 0.4, Infinity];
    // 10 requests under 0.1 s, 10 between 0.1 and 0.2 s.
    assert.equal(quantileFromBuckets(bounds, [10, 20, 20, 20], 0.5), 0.1);
    assert.ok(Math.abs(quantileFromBuckets(bounds, [10, 20, 20, 20], 0.75)! - 0.15) < 1e-9);
    assert.equal(quantileFromBuckets(bounds, [0, 0, 0, 0], 0.5), null);
    // Past the last finite bound, the bound is all that can be said.
    assert.equal(quantileFromBuckets(bounds, [0, 0, 0, 5], 0.99), 0.4);
  });

  it('reports per-slot rates, error share and latency over the window from the proxy series', async () => {
    const registry = new Registry();
    const proxy = new ProxyMetrics();
    exportProxyMetrics(proxy, registry);
    let now = 1_000_000;
    const sampler = new SlotMetricsSampler(registry, () => now);
    await sampler.sample();
    for (let index = 0; index < 80; index += 1) proxy.record('blue', 200, 0.003, false);
    for (let index = 0; index < 20; index += 1) proxy.record('green', index < 10 ? 500 : 200, 0.2, false);
    now += 2000;
    const sample = await sampler.sample();
    assert.equal(sample.available, true);
    assert.equal(sample.windowSeconds, 2);
    assert.equal(sample.slots.blue.requestsPerSecond, 40);
    assert.equal(sample.slots.blue.errorRate, 0);
    assert.equal(sample.slots.green.requestsPerSecond, 10);
    assert.equal(sample.slots.green.errorRate, 0.5);
    assert.ok(sample.slots.blue.p50Ms! > 2.5 && sample.slots.blue.p50Ms! <= 5, `${sample.slots.blue.p50Ms}`);
    assert.ok(
      sample.slots.green.p99Ms! > 100 && sample.slots.green.p99Ms! <= 250,
      `${sample.slots.green.p99Ms}`,
    );
    // Requests older than the window no longer count.
    now += 6000;
    await sampler.sample();
    now += 1000;
    const quiet = await sampler.sample();
    assert.equal(quiet.slots.green.requestsPerSecond, 0);
    assert.equal(quiet.slots.green.errorRate, null);
  });

  it('says so when no router feeds the series', async () => {
    const sample = await new SlotMetricsSampler(new Registry()).sample();
    assert.equal(sample.available, false);
  });
});
