/**
 * The builtin data plane outlives its control plane: `kill -9` of `cutover server`, again and
 * again, one of them mid-deployment, under keep-alive load. The proxy workers keep serving the
 * last table while no server runs; each restarted server adopts the same workers (none started
 * twice, none leaked), the interrupted deployment resumes and finishes, and no request fails.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startLoad, waitFor } from '../support/load.js';
import { hasEnded } from '../support/pid-gone.js';
import { runningWorkerPids } from '../support/proxy-workers.js';
import { CutoverHarness } from './harness.js';

/** The suite's scale; bench/control-plane-chaos.ts runs the same scenarios at the (50 / 20). */
const KILLS = Number(process.env.CUTOVER_CHAOS_KILLS ?? 5);
/** The kill that lands while a deployment of v2 is provisioning. */
const KILL_MID_DEPLOY = 2;

const UPGRADES = Number(process.env.CUTOVER_CHAOS_UPGRADES ?? 3);
/** The upgrade that lands while a deployment of v2 is provisioning. */
const UPGRADE_MID_DEPLOY = 1;

let harness: CutoverHarness | undefined;
let upgraded: CutoverHarness | undefined;
after(async () => {
  await harness?.teardown();
  await upgraded?.teardown();
});

describe('kill -9 of cutover server with the builtin router', () => {
  it('fails no request: the workers serve on, are adopted by the next server, and none is leaked', async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      extraYaml: 'hooks:\n  beforeProvision: "sleep 1"',
    });
    const h = harness;
    await h.startServer();
    const first = await h.cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const workers = (await runningWorkerPids(h.stateDir)).sort();
    assert.ok(workers.length >= 1, 'the server started proxy workers');

    const load = startLoad({ url: h.trafficUrl, connections: 20, maxDurationMs: 300_000 });
    let deploymentId: string | undefined;
    try {
      for (let kill = 0; kill < KILLS; kill += 1) {
        if (kill === KILL_MID_DEPLOY) {
          const { status, body } = await h.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
            release: 'v2',
          });
          assert.equal(status, 202, JSON.stringify(body));
          deploymentId = body.deployment.id;
          await h.waitForPhase(deploymentId, ['provisioning']);
        }
        await h.killServer();
        // No control plane now: the workers answer on their own.
        const okWhileDown = load.stats().ok;
        await waitFor(() => load.stats().ok > okWhileDown + 200, {
          what: 'traffic while the server is down',
        });
        await h.startServer();
        assert.deepEqual(
          (await runningWorkerPids(h.stateDir)).sort(),
          workers,
          'the restarted server adopted the same workers and started none',
        );
      }
      assert.ok(deploymentId !== undefined);
      await h.waitForPhase(deploymentId, ['standby'], 60_000);
      await waitFor(async () => (await (await fetch(h.trafficUrl)).text()) === 'v2', { what: 'v2 live' });
    } finally {
      const stats = await load.stop();
      assert.equal(stats.failed, 0, `failed requests: ${stats.firstErrors.join('; ')}`);
      assert.equal(stats.connectionErrors, 0);
      assert.ok(stats.ok > KILLS * 200, `requests answered: ${stats.ok}`);
    }

    // A graceful stop retires them: nothing is left running.
    await h.stopServer();
    await waitFor(async () => (await Promise.all(workers.map((pid) => hasEnded(pid)))).every(Boolean), {
      what: 'the workers to exit after the server stopped',
    });
    assert.deepEqual(await runningWorkerPids(h.stateDir), []);
  });

  it('cutover server --upgrade hands over to new workers: no request fails, the old workers exit', async () => {
    upgraded = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      extraYaml: 'hooks:\n  beforeProvision: "sleep 1"',
    });
    const h = upgraded;
    await h.startServer();
    const first = await h.cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const load = startLoad({ url: h.trafficUrl, connections: 20, maxDurationMs: 300_000 });
    const retired: number[] = [];
    let deploymentId: string | undefined;
    try {
      for (let upgrade = 0; upgrade < UPGRADES; upgrade += 1) {
        const okBefore = load.stats().ok;
        await waitFor(() => load.stats().ok > okBefore + 200, { what: 'traffic before the upgrade' });
        if (upgrade === UPGRADE_MID_DEPLOY) {
          const { status, body } = await h.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
            release: 'v2',
          });
          assert.equal(status, 202, JSON.stringify(body));
          deploymentId = body.deployment.id;
          await h.waitForPhase(deploymentId, ['provisioning']);
        }
        const old = await runningWorkerPids(h.stateDir);
        await h.upgradeServer();
        await waitFor(async () => (await Promise.all(old.map((pid) => hasEnded(pid)))).every(Boolean), {
          what: 'the old workers to drain and exit',
          timeoutMs: 20_000,
        });
        const now = await runningWorkerPids(h.stateDir);
        assert.equal(now.length, old.length, 'as many workers as before');
        assert.ok(
          now.every((pid) => !old.includes(pid)),
          'new workers, from the new server',
        );
        retired.push(...old);
      }
      assert.ok(deploymentId !== undefined);
      await h.waitForPhase(deploymentId, ['standby'], 60_000);
      await waitFor(async () => (await (await fetch(h.trafficUrl)).text()) === 'v2', { what: 'v2 live' });
    } finally {
      const stats = await load.stop();
      assert.equal(stats.failed, 0, `failed requests: ${stats.firstErrors.join('; ')}`);
      assert.equal(stats.connectionErrors, 0);
    }
    await h.stopServer();
    assert.deepEqual(await runningWorkerPids(h.stateDir), []);
    for (const pid of retired) assert.ok(await hasEnded(pid), `retired worker ${pid} is gone`);
  });
});
