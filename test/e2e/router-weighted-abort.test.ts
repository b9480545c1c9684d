/**
 * Abort in the middle of a weighted shift, through each real daemon that can weigh traffic:
 * `cutover deploy` moves 50% of the traffic to v2 and waits at a manual step; `cutover abort`
 * must put every request back on v1 under keep-alive load. HAProxy (runtime weights) and
 * Varnish (`vcl.use`) drop no request; an nginx reload may reset idle keep-alive connections,
 * never answer an error or from the wrong slot (docs/routers.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { startVarnishHarness } from '../support/daemons/varnish.js';
import { startLoad, waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import {
  assertNoFailures,
  assertOnlyConnectionResets,
  daemonFrom,
  type RouterDaemon,
  type RouterScenario,
} from './router-scenario.js';

interface StatusOutput {
  routing: { liveSlot: string; weights: { blue: number; green: number } };
}

type WeightedAbortCase = Pick<RouterScenario, 'kind' | 'startDaemon' | 'assertFailures'>;

const CASES: readonly WeightedAbortCase[] = [
  {
    kind: 'haproxy',
    startDaemon: daemonFrom(startHaproxyHarness, { closeHarnessRouter: true }),
    assertFailures: assertNoFailures,
  },
  { kind: 'varnish', startDaemon: daemonFrom(startVarnishHarness), assertFailures: assertNoFailures },
  {
    kind: 'nginx',
    startDaemon: daemonFrom(startNginxHarness, { closeHarnessRouter: true }),
    assertFailures: assertOnlyConnectionResets,
  },
];

for (const routerCase of CASES) runWeightedAbort(routerCase);

function runWeightedAbort({ kind, startDaemon, assertFailures }: WeightedAbortCase): void {
  void describe(`abort during a weighted shift step (${kind})`, () => {
    let daemon: RouterDaemon | undefined;
    let harness: CutoverHarness | undefined;
    const h = (): CutoverHarness => {
      assert.ok(harness, 'the end-to-end harness did not start');
      return harness;
    };

    before(async () => {
      daemon = await startDaemon();
      harness = await CutoverHarness.create({
        releases: { v1: {}, v2: {} },
        router: { config: daemon.config, url: daemon.url },
        extraYaml: [
          'strategy:',
          '  kind: shift',
          '  steps: [{ weight: 50, gate: manual }, { weight: 100 }]',
        ].join('\n'),
      });
      await harness.startServer();
      const first = await harness.cli(['deploy', 'v1']);
      assert.equal(first.code, 0, first.stderr + first.stdout);
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        await daemon?.teardown();
      }
    });

    const status = async (): Promise<StatusOutput> =>
      JSON.parse((await h().cli(['status', '--json'])).stdout) as StatusOutput;

    void it('puts every request back on v1, never with an error answer', async () => {
      const load = startLoad({ url: h().trafficUrl, connections: 50, errorBackoffMs: 5 });
      try {
        const started = await h().cli(['deploy', 'v2', '--no-wait', '--json']);
        assert.equal(started.code, 0, started.stderr + started.stdout);
        const { deployment } = JSON.parse(started.stdout) as { deployment: { id: string } };

        await waitFor(async () => (await status()).routing.weights.green === 50, {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: 'the 50% step',
        });
        await waitFor(() => (load.stats().bodies.v2 ?? 0) > 0, {
          timeoutMs: 10_000,
          what: 'v2 to answer part of the live traffic at the 50% step',
        });
        assert.equal(await h().waitForPhase(deployment.id, ['shifting']), 'shifting');

        const aborted = await h().cli(['abort', deployment.id, '--json']);
        assert.equal(aborted.code, 0, aborted.stderr + aborted.stdout);
        await h().waitForPhase(deployment.id, ['aborted'], 60_000);

        const after = await status();
        assert.equal(after.routing.liveSlot, 'blue', 'blue (v1) is still the live slot');
        assert.deepEqual(after.routing.weights, { blue: 100, green: 0 });
        const mark = load.stats().bodies.v2 ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(load.stats().bodies.v2 ?? 0, mark, 'no request reached v2 after the abort returned');
      } finally {
        const stats = await load.stop();
        console.log(
          `# ${kind} weighted abort: ${stats.sent} requests, ${stats.failed} failed ` +
            `(${stats.connectionErrors} connection resets)`,
        );
        assertFailures(stats, 'abort');
      }
    });
  });
}
