/**
 * The builtin analysis end to end: a real `cutover server` with the builtin router (its proxy in
 * worker processes) and the process platform, a 10/50/100 shift under keep-alive load. The
 * provider reads the proxy's per-slot counters, summed over the workers, and compares v2's
 * window with v1's:
 * - a v2 answering 5% of its requests with 500 is aborted at the first step (10%), traffic back
 *   on v1, the record naming the measure and the values;
 * - a v2 30% slower at p99 likewise;
 * - a healthy v2 promotes;
 * - with no traffic the first step is inconclusive and waits at a gate;
 * - in a bake after a switch (the old slot idle: nothing to compare with), the same failing
 *   release is rolled back on maxErrorRate alone.
 * Every release answers after 200ms (DELAY_MS), so a p99 compares 200ms with 260ms, not 1ms
 * of host jitter with another.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningLoad } from '../support/load.js';
import { latestDeployment, underLoad as underLoadOf } from './analysis-scenario.js';
import { CutoverHarness } from './harness.js';
import { sample, startCli } from './oneshot-scenario.js';

const BASE_DELAY_MS = 200;

void describe('builtin analysis during a 10/50/100 shift (server, builtin router, process platform)', () => {
  let harness: CutoverHarness | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the end-to-end harness did not start');
    return harness;
  };

  before(async () => {
    const delay = (ms: number) => ({ DELAY_MS: String(ms) });
    harness = await CutoverHarness.create({
      releases: {
        v1: { files: delay(BASE_DELAY_MS) },
        v2: { files: delay(BASE_DELAY_MS) },
        failing: { files: { ...delay(BASE_DELAY_MS), FAIL_PERCENT: '5' } },
        slow: { files: delay(BASE_DELAY_MS * 1.3) },
      },
      extraYaml: [
        'strategy:',
        '  kind: shift',
        '  steps:',
        '    - { weight: 10, pause: 8s }',
        '    - { weight: 50, pause: 3s }',
        '    - { weight: 100 }',
        'analysis:',
        '  interval: 500ms',
        '  providers:',
        '    - kind: builtin',
        '      minRequests: 50',
        '      maxErrorRate: 1%',
        '      maxP99Increase: 20%',
        // A loaded CI machine delays single requests by tens of ms; green's p99 over ~80
        // requests is nearly its slowest one. 30% of 200ms is 60ms, above this floor.
        '      minLatencyIncrease: 50ms',
      ].join('\n'),
    });
    await h().startServer();
    const first = await h().cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
  });
  after(async () => {
    await harness?.teardown();
  });

  const latest = () => latestDeployment(h());
  const underLoad = <T>(run: (load: RunningLoad) => Promise<T>): Promise<T> =>
    underLoadOf(h().trafficUrl, 20, run);

  void it('thin traffic: the first step is inconclusive and waits at a gate', async () => {
    const deploy = startCli(h(), ['deploy', 'v2']);
    await deploy.waitForLine(
      /analysis inconclusive at shift step 1 .*fewer than minRequests 50.*waiting for `cutover promote`/,
    );
    const waiting = await latest();
    assert.equal(waiting.phase, 'shifting', 'it waits at the gate, neither aborted nor promoted');
    const abort = await h().cli(['abort', waiting.id]);
    assert.equal(abort.code, 0, abort.stderr + abort.stdout);
    await deploy.result;
    assert.equal(await h().waitForPhase(waiting.id, ['aborted']), 'aborted');
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);
  });

  void it('a v2 answering 5% 500s is aborted at the 10% step, traffic back on v1, the record naming the error rate', async () => {
    const done = await underLoad(async (load) => {
      const result = await h().cli(['deploy', 'failing']);
      const mark = load.stats().bodies['failing'] ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(
        load.stats().bodies['failing'] ?? 0,
        mark,
        'no request reached the failing release after the abort',
      );
      return result;
    });
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /aborted: analysis failed at shift step 1 \(10% on failing\): builtin: green answered \d+ of \d+ requests with an error/,
    );
    const record = await latest();
    assert.equal(record.phase, 'aborted');
    assert.equal(record.reason?.code, 'CUTOVER_E_ANALYSIS');
    assert.equal(record.reason?.analysis?.measure, 'error rate');
    assert.equal(record.reason?.analysis?.threshold, '1%');
    console.log(`5% failing release: ${record.reason?.message ?? ''}`);
    const observed = Number(String(record.reason?.analysis?.observed).replace('%', ''));
    assert.ok(observed > 1 && observed <= 10, `observed ${String(record.reason?.analysis?.observed)}`);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
  });

  void it('a v2 30% slower at p99 is aborted at the 10% step, the record naming both p99s', async () => {
    const done = await underLoad(() => h().cli(['deploy', 'slow']));
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /aborted: analysis failed at shift step 1 \(10% on slow\): builtin: green's p99 latency exceeds blue's/,
    );
    const record = await latest();
    console.log(`30% slower release: ${record.reason?.message ?? ''}`);
    assert.equal(record.reason?.analysis?.measure, 'p99 latency increase');
    assert.equal(record.reason?.analysis?.threshold, '+20%');
    assert.match(String(record.reason?.analysis?.observed), /^\d+ms against \d+ms \(\+\d+(\.\d+)?%\)$/);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
  });

  void it('a healthy v2 passes every step and promotes', async () => {
    const done = await underLoad(() => h().cli(['deploy', 'v2']));
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.doesNotMatch(done.stdout, /analysis failed|waiting for `cutover promote`/);
    assert.match(done.stdout, /analysis pass \(step 1\): builtin: green: \d+ requests, 0% errors/);
    assert.match(done.stdout, /analysis pass \(step 2\)/);
    const record = await latest();
    assert.ok(['promoted', 'draining', 'standby'].includes(record.phase), record.phase);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
  });

  void it('during a bake after a switch, the 5%-failing release is rolled back on maxErrorRate alone', async () => {
    await h().stopServer();
    const config = readFileSync(h().configFile, 'utf8');
    const switched = config
      .replace(/strategy:\n(?: {2}.*\n)+/, 'strategy: { kind: switch }\n')
      .replace('analysis:\n', 'analysis:\n  bake: 4s\n');
    assert.notEqual(switched, config);
    writeFileSync(h().configFile, switched);
    await h().startServer();
    const done = await underLoad(() => h().cli(['deploy', 'failing']));
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /rolled-back: rolled back automatically during the bake: builtin: \w+ answered \d+ of \d+ requests with an error/,
    );
    const record = await latest();
    assert.equal(record.phase, 'rolled-back');
    assert.equal(record.reason?.analysis?.measure, 'error rate');
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
  });
});
