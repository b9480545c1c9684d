/**
 * The prometheus analysis end to end: a real `cutover server` with the builtin router (its proxy
 * in worker processes), a real Prometheus (Debian's package) scraping the server's `/metrics`
 * every second with the admin token, and a 10/50/100 shift under keep-alive load. The provider
 * asks Prometheus for the new slot's error rate over the step's window, from the proxy's
 * per-slot counters (cutover_proxy_errors_total / cutover_proxy_requests_total):
 * - a v2 answering 5% of its requests with 500 is aborted at the first step (10%), traffic back
 *   on v1, the record naming the query, the observed rate and the condition;
 * - a healthy v2 passes both steps and promotes (the query does answer below the threshold).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/daemons/common.js';
import { requirePrometheus, startPrometheus, type PrometheusServer } from '../support/daemons/prometheus.js';
import { waitFor } from '../support/load.js';
import { latestDeployment, underLoad as underLoadOf } from './analysis-scenario.js';
import { CutoverHarness } from './harness.js';
import { sample } from './oneshot-scenario.js';

/** The new slot's share of 5xx answers over the window; no error series yet reads as 0 errors. */
const ERROR_RATE_QUERY =
  '(sum(increase(cutover_proxy_errors_total{slot="{{slot}}"}[{{window}}])) or vector(0))' +
  ' / sum(increase(cutover_proxy_requests_total{slot="{{slot}}"}[{{window}}]))';

void describe('prometheus analysis during a 10/50/100 shift (real Prometheus scraping cutover /metrics)', () => {
  let harness: CutoverHarness | undefined;
  let prometheus: PrometheusServer | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the end-to-end harness did not start');
    return harness;
  };

  before(async () => {
    // Fails here, naming the install step, when Prometheus is missing.
    requirePrometheus();
    // Prometheus's address is in the config; Prometheus starts once the server made its admin token.
    const promPort = await freePort();
    harness = await CutoverHarness.create({
      releases: {
        v1: { files: { DELAY_MS: '10' } },
        v2: { files: { DELAY_MS: '10' } },
        failing: { files: { DELAY_MS: '10', FAIL_PERCENT: '5' } },
      },
      extraYaml: [
        'strategy:',
        '  kind: shift',
        '  steps:',
        '    - { weight: 10, pause: 6s }',
        '    - { weight: 50, pause: 3s }',
        '    - { weight: 100 }',
        'analysis:',
        '  interval: 500ms',
        '  providers:',
        '    - kind: prometheus',
        `      address: http://127.0.0.1:${promPort}`,
        `      query: ${JSON.stringify(ERROR_RATE_QUERY)}`,
        '      successCondition: "result < 0.02"',
        '      interval: 2s',
        '      timeout: 2s',
      ].join('\n'),
    });
    await h().startServer();
    const first = await h().cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    prometheus = await startPrometheus(
      [
        {
          job: 'cutover',
          address: `127.0.0.1:${new URL(h().adminUrl).port}`,
          tokenFile: path.join(h().stateDir, 'admin-token'),
        },
      ],
      { port: promPort },
    );
    const server = prometheus;
    // Prometheus scrapes cutover with the admin token before any deployment is judged.
    await waitFor(async () => (await server.query('up{job="cutover"} == 1')).length === 1, {
      timeoutMs: 15_000,
      what: 'Prometheus to scrape cutover /metrics',
    });
  });
  after(async () => {
    await prometheus?.stop();
    await harness?.teardown();
  });

  const latest = () => latestDeployment(h());
  const underLoad = <T>(run: () => Promise<T>): Promise<T> => underLoadOf(h().trafficUrl, 10, run);

  void it('a v2 answering 5% 500s is aborted at the 10% step on the PromQL error rate, traffic back on v1', async () => {
    const done = await underLoad(() => h().cli(['deploy', 'failing']));
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /aborted: analysis failed at shift step 1 \(10% on failing\): prometheus: result [\d.e-]+ does not meet result < 0\.02/,
    );
    const record = await latest();
    console.log(`5% failing release: ${record.reason?.message ?? ''}`);
    assert.equal(record.phase, 'aborted');
    assert.equal(record.reason?.code, 'CUTOVER_E_ANALYSIS');
    const finding = record.reason?.analysis;
    assert.equal(finding?.provider, 'prometheus');
    assert.equal(finding?.measure, 'query result');
    assert.equal(finding?.threshold, 'pass: result < 0.02');
    assert.match(finding?.subject ?? '', /cutover_proxy_errors_total\{slot="green"\}\[\d+s\]/);
    const observed = Number(finding?.observed);
    assert.ok(observed >= 0.02 && observed <= 0.1, `observed ${String(finding?.observed)}`);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
  });

  void it('a healthy v2 passes both steps on the same query and promotes', async () => {
    const done = await underLoad(() => h().cli(['deploy', 'v2']));
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.doesNotMatch(done.stdout, /analysis failed|waiting for `cutover promote`/);
    assert.match(done.stdout, /analysis pass \(step 1\): prometheus: result 0 meets result < 0\.02/);
    assert.match(done.stdout, /analysis pass \(step 2\)/);
    const record = await latest();
    assert.ok(['promoted', 'draining', 'standby'].includes(record.phase), record.phase);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
  });
});
