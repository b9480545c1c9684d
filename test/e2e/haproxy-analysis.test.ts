/**
 * The builtin analysis with HAProxy as the router, end to end: one-shot `cutover deploy` (no
 * server), a real HAProxy, the process platform, a 10/100 shift under keep-alive load. The
 * provider reads each slot's requests and 5xx from HAProxy's `show stat` (HAProxy keeps no
 * latency distribution, so only error rates are compared):
 * - a v2 answering 5% of its requests with 500 is aborted at the 10% step, traffic back on v1;
 * - a healthy v2 passes, the progress saying latency was not compared, and promotes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { latestDeployment, underLoad as underLoadOf } from './analysis-scenario.js';
import { CutoverHarness } from './harness.js';
import { sample } from './oneshot-scenario.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

void describe('builtin analysis from HAProxy show stat (one-shot, haproxy router, process platform)', () => {
  let daemon: RouterDaemon | undefined;
  let harness: CutoverHarness | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the end-to-end harness did not start');
    return harness;
  };

  before(async () => {
    daemon = await daemonFrom(startHaproxyHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {}, failing: { files: { FAIL_PERCENT: '5' } } },
      router: { config: daemon.config, url: daemon.url },
      extraYaml: [
        'strategy:',
        '  kind: shift',
        '  steps:',
        '    - { weight: 10, pause: 5s }',
        '    - { weight: 100 }',
        'analysis:',
        '  interval: 500ms',
        '  providers:',
        '    - kind: builtin',
        '      minRequests: 50',
        '      maxErrorRate: 1%',
      ].join('\n'),
    });
    const first = await h().cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await daemon?.teardown();
    }
  });

  const underLoad = <T>(run: () => Promise<T>): Promise<T> => underLoadOf(h().trafficUrl, 10, run);
  const latest = () => latestDeployment(h());

  void it('a v2 answering 5% 500s is aborted at the 10% step, traffic back on v1', async () => {
    const done = await underLoad(() => h().cli(['deploy', 'failing']));
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /aborted: analysis failed at shift step 1 \(10% on failing\): builtin: green answered \d+ of \d+ requests with an error/,
    );
    const record = await latest();
    assert.equal(record.phase, 'aborted');
    assert.equal(record.reason?.code, 'CUTOVER_E_ANALYSIS');
    assert.equal(record.reason?.analysis?.measure, 'error rate');
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
  });

  void it('a healthy v2 passes on error rates alone and promotes', async () => {
    const done = await underLoad(() => h().cli(['deploy', 'v2']));
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /analysis pass \(step 1\): builtin: green: \d+ requests, 0% errors/);
    assert.match(done.stdout, /latency not compared: the router keeps no latency distribution/);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
  });
});
