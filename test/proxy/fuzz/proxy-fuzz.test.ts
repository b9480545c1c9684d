import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFuzz } from './fuzz-run.js';

// The differential fuzz property (fuzz-harness.ts) at a fixed seed and a bounded number of
// cases; `node --import tsx test/proxy/fuzz/run-fuzz.ts --fuzz N` runs it for longer.
void describe('proxy differential fuzz test', () => {
  void it('forwards exactly the requests it answers, each framed by the proxy, and never dies (2,000 cases, seed 20261204)', async () => {
    const stats = await runFuzz({ cases: 2_000, seed: 20261204, lanes: 4 });
    assert.equal(stats.cases, 2_000);
    // The cases reach every outcome: forwarded requests, refused streams, resets.
    assert.ok(stats.forwarded > 200, `${stats.forwarded} requests forwarded`);
    assert.ok(stats.refused > 200, `${stats.refused} streams refused`);
    assert.ok(stats.resets > 100, `${stats.resets} resets`);
  });
});
