/**
 * The container recipe end to end (issue 13, examples/docker-nginx), through the real CLI and
 * `cutover server`, a real podman engine and a real nginx in the router's no-reload lua mode,
 * under 50 keep-alive connections: cutover builds each release's image, starts the idle slot's
 * containers published on 127.0.0.1 only, health-checks them, gives them 10 %, 50 %, then all
 * of the traffic, and after the rollback window stops and removes the old slot's containers.
 * Then a rollback inside the window (a traffic move: no container restarted) and a "rollback
 * after the window" (the previous release deployed again from its kept image, no rebuild).
 * Beside it, the same deploy with the builtin router (0 failed) and with nginx's reload mode,
 * whose residual (connection resets only) is counted and printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { labelFilter } from '../../src/platforms/docker/container-naming.js';
import { isGone } from '../../src/platforms/docker/engine.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { startPodman, type PodmanEngine } from '../support/daemons/podman.js';
import { writeTestImageContext } from '../support/docker-test-image.js';
import { startLoad, waitFor, type LoadStats, type RunningLoad } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import { assertOnlyConnectionResets, daemonFrom, type RouterDaemon } from './router-scenario.js';

const APP = 'e2e';
const CONNECTIONS = 50;
/** Short, so the test sees the old slot retired; long enough for a CLI rollback to land inside it. */
const ROLLBACK_WINDOW = '10s';
/**
 * Probes reach a container through podman's port forwarder; on a loaded CI machine (two cores,
 * another test file beside this one, nginx reloading under 50 connections) an answer can take
 * longer than the harness's 500 ms without anything being wrong with the release.
 */
const CONTAINER_HEALTH_TIMEOUT = '2s';

const SHIFT_STRATEGY = [
  'strategy:',
  '  kind: shift',
  '  steps: [{ weight: 10, pause: 500ms }, { weight: 50, pause: 500ms }, { weight: 100 }]',
].join('\n');

interface ContainerFacts {
  id: string;
  name: string;
  slot: string;
  release: string;
  startedAt: string;
  restarts: number;
  /** Host addresses the container port is published on, as the engine reports them. */
  publishedOn: string[];
}

void describe(
  'the container recipe end to end: podman, nginx (lua mode), cutover deploy',
  { timeout: 900_000 },
  () => {
    let engine: PodmanEngine;
    let docker: Docker;
    let contextDir: string;

    /** Every container of the e2e app, as the engine reports it. */
    async function containers(): Promise<ContainerFacts[]> {
      const listed = await docker.listContainers({ all: true, filters: labelFilter(APP) });
      const facts = await Promise.all(
        listed.map(async (container) => {
          const info = await docker
            .getContainer(container.Id)
            .inspect()
            .catch((error: unknown) => {
              // A retiring slot's container may go between the list and the inspect.
              if (isGone(error)) return undefined;
              throw error;
            });
          if (!info) return [];
          const bindings = Object.values(info.NetworkSettings.Ports ?? {}).flatMap((list) => list ?? []);
          return {
            id: info.Id,
            name: info.Name.replace(/^\//, ''),
            slot: info.Config.Labels['io.cutover.slot'] ?? '',
            release: info.Config.Labels['io.cutover.release'] ?? '',
            startedAt: info.State.StartedAt,
            restarts: info.RestartCount,
            publishedOn: bindings.map((binding) => binding.HostIp),
          };
        }),
      );
      return facts.flat().sort((a, b) => a.name.localeCompare(b.name));
    }

    const ofSlot = async (slot: string): Promise<ContainerFacts[]> =>
      (await containers()).filter((c) => c.slot === slot);

    async function imageId(release: string): Promise<string> {
      return (await docker.getImage(`cutover-${APP}:${release}`).inspect()).Id;
    }

    /** The platform every scenario uses: cutover builds `cutover-e2e:<release>` from the test context. */
    const platform = (): Record<string, unknown> => ({
      kind: 'docker',
      socket: engine.dockerHost,
      build: { context: contextDir, args: { APP_RELEASE: '${RELEASE}' } },
      port: 8000,
      pull: 'never',
      instances: 2,
      stopGrace: '2s',
      keepImages: 3,
    });

    /** A new scenario starts from no container of the app (the previous one's server is gone). */
    async function removeAppContainers(): Promise<void> {
      for (const container of await docker.listContainers({ all: true, filters: labelFilter(APP) })) {
        await docker
          .getContainer(container.Id)
          .remove({ force: true })
          .catch((error: unknown) => {
            if (!isGone(error)) throw error;
          });
      }
    }

    before(async () => {
      engine = await startPodman();
      docker = new Docker({ socketPath: engine.socket });
      contextDir = await makeTempDir('recipe-context');
      // The release is baked into a label, so each release is its own image (as a real app's is).
      await writeTestImageContext(
        contextDir,
        'ARG APP_RELEASE\nLABEL io.cutover.test.release=$APP_RELEASE\n',
      );
    });
    after(async () => {
      await engine?.stop();
      if (contextDir) await removeTempDir(contextDir);
    });

    void describe('nginx in lua mode, one load across the whole recipe', () => {
      let nginx: RouterDaemon;
      let harness: CutoverHarness;
      let load: RunningLoad | undefined;
      let v1Image = '';
      let v2Containers: ContainerFacts[] = [];

      const body = async (): Promise<string> => (await fetch(harness.trafficUrl)).text();
      /** Log events of the server since `from` characters of its log. */
      const serverEvents = (from = 0): Array<Record<string, unknown>> =>
        harness.serverLog
          .slice(from)
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      const builds = (release: string): number =>
        serverEvents().filter((e) => e.event === 'docker.build.started' && e.release === release).length;

      before(async () => {
        nginx = await daemonFrom(() => startNginxHarness({ mode: 'lua' }), { closeHarnessRouter: true })();
        harness = await CutoverHarness.create({
          releases: {},
          platform: platform(),
          router: { config: nginx.config, url: nginx.url },
          rollbackWindow: ROLLBACK_WINDOW,
          extraYaml: SHIFT_STRATEGY,
          healthTimeout: CONTAINER_HEALTH_TIMEOUT,
        });
        await harness.startServer();
      });
      after(async () => {
        await load?.stop();
        try {
          await harness?.teardown();
        } finally {
          await nginx?.teardown();
          await removeAppContainers();
        }
      });

      void it('deploys v1, then v2 built by cutover: unexposed containers, health, 10 → 50 → 100 %, the old slot removed after the window', async () => {
        const first = await harness.cli(['deploy', 'v1']);
        assert.equal(first.code, 0, first.stderr + first.stdout);
        assert.equal(await body(), 'v1');
        v1Image = await imageId('v1');
        assert.equal(builds('v1'), 1);

        load = startLoad({
          url: harness.trafficUrl,
          connections: CONNECTIONS,
          errorBackoffMs: 5,
          maxDurationMs: 600_000,
        });
        const logFrom = harness.serverLog.length;
        const second = await harness.cli(['deploy', 'v2']);
        assert.equal(second.code, 0, second.stderr + second.stdout);
        // cutover built the image: its output streamed to the deploy's progress.
        assert.equal(builds('v2'), 1);
        assert.match(second.stdout + second.stderr, /build: /);
        assert.equal(await body(), 'v2');

        // The new containers publish their port on 127.0.0.1 only; the old ones are warm.
        v2Containers = await ofSlot('green');
        assert.deepEqual(
          v2Containers.map((c) => `${c.name} ${c.release} ${c.publishedOn.join(',')}`),
          ['e2e-green-0 v2 127.0.0.1', 'e2e-green-1 v2 127.0.0.1'],
        );
        assert.deepEqual(
          (await ofSlot('blue')).map((c) => `${c.name} ${c.release}`),
          ['e2e-blue-0 v1', 'e2e-blue-1 v1'],
        );

        // Traffic moved in the configured steps, each applied to nginx (green's weight in order).
        const steps = serverEvents(logFrom)
          .filter((e) => e.event === 'traffic.applied')
          .map((e) => (e.weights as { green: number }).green);
        assert.deepEqual(
          steps.filter((weight, i) => i === 0 || weight !== steps[i - 1]),
          [0, 10, 50, 100],
        );
        const stats = load.stats();
        assert.ok((stats.bodies.v1 ?? 0) > 0 && (stats.bodies.v2 ?? 0) > 0, JSON.stringify(stats.bodies));

        // After the rollback window the old slot is retired: its containers stopped and removed.
        await waitFor(async () => (await ofSlot('blue')).length === 0, {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: "the old slot's containers to be removed after the rollback window",
        });
        assert.deepEqual(await ofSlot('green'), v2Containers, 'the live containers were not touched');
      });

      void it('deploys v3, then rolls back inside the window: v2 serves again and no container restarted', async () => {
        const third = await harness.cli(['deploy', 'v3']);
        assert.equal(third.code, 0, third.stderr + third.stdout);
        assert.equal(await body(), 'v3');
        assert.deepEqual(await ofSlot('green'), v2Containers, 'the warm slot is the same containers');

        const rollback = await harness.cli(['rollback', '--json']);
        assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
        assert.equal(await body(), 'v2');
        // Same ids, same start times, no restarts: the rollback was a traffic move only.
        assert.deepEqual(await ofSlot('green'), v2Containers);
        // The rolled-back slot retires at once.
        await waitFor(async () => (await ofSlot('blue')).length === 0, {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: "the rolled-back slot's containers to be removed",
        });
      });

      void it('after the window, deploying v1 again starts its kept image without a rebuild', async () => {
        assert.equal(builds('v1'), 1);
        const again = await harness.cli(['deploy', 'v1']);
        assert.equal(again.code, 0, again.stderr + again.stdout);
        assert.equal(await body(), 'v1');
        assert.equal(await imageId('v1'), v1Image, 'the same image, not a new build');
        assert.equal(builds('v1'), 1, 'no build of v1 was started');
        assert.doesNotMatch(again.stdout + again.stderr, /build: /);
        assert.deepEqual(
          (await ofSlot('blue')).map((c) => `${c.name} ${c.release}`),
          ['e2e-blue-0 v1', 'e2e-blue-1 v1'],
        );
      });

      void it('no request failed across the whole recipe under 50 keep-alive connections', async () => {
        assert.ok(load, 'the load ran');
        const stats = await load.stop();
        load = undefined;
        report('nginx lua mode, whole recipe', stats);
        assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
        assert.equal(stats.non2xx, 0);
        assert.deepEqual(Object.keys(stats.bodies).sort(), ['v1', 'v2', 'v3']);
      });
    });

    /** deploy v1, then v2 under load: the part of the recipe where traffic moves. */
    async function deployUnderLoad(harness: CutoverHarness): Promise<LoadStats> {
      const first = await harness.cli(['deploy', 'v1']);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      const load = startLoad({ url: harness.trafficUrl, connections: CONNECTIONS, errorBackoffMs: 5 });
      let stats: LoadStats;
      try {
        const second = await harness.cli(['deploy', 'v2']);
        assert.equal(second.code, 0, second.stderr + second.stdout);
      } finally {
        stats = await load.stop();
      }
      assert.ok((stats.bodies.v2 ?? 0) > 0, JSON.stringify(stats.bodies));
      return stats;
    }

    void it('the same deploy with the builtin router fails no request under 50 keep-alive connections', async () => {
      const harness = await CutoverHarness.create({
        releases: {},
        platform: platform(),
        rollbackWindow: ROLLBACK_WINDOW,
        extraYaml: SHIFT_STRATEGY,
        healthTimeout: CONTAINER_HEALTH_TIMEOUT,
      });
      try {
        await harness.startServer();
        const stats = await deployUnderLoad(harness);
        report('builtin router, deploy v2', stats);
        assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
        assert.equal(stats.non2xx, 0);
      } finally {
        await harness.teardown();
        await removeAppContainers();
      }
    });

    void it("the same deploy with nginx's reload mode: its failures are connection resets only (counted)", async () => {
      const nginx = await daemonFrom(() => startNginxHarness(), { closeHarnessRouter: true })();
      let harness: CutoverHarness | undefined;
      try {
        harness = await CutoverHarness.create({
          releases: {},
          platform: platform(),
          router: { config: nginx.config, url: nginx.url },
          rollbackWindow: ROLLBACK_WINDOW,
          extraYaml: SHIFT_STRATEGY,
          healthTimeout: CONTAINER_HEALTH_TIMEOUT,
        });
        await harness.startServer();
        const stats = await deployUnderLoad(harness);
        report('nginx reload mode, deploy v2', stats);
        assertOnlyConnectionResets(stats, 'switch');
      } finally {
        try {
          await harness?.teardown();
        } finally {
          await nginx.teardown();
          await removeAppContainers();
        }
      }
    });
  },
);

function report(what: string, stats: LoadStats): void {
  // Shown in the test output (stderr); the figures are quoted in docs/docker.md.
  console.error(
    `# docker recipe, ${what}: ${stats.sent} requests, ${stats.failed} failed (${stats.connectionErrors} connection resets), bodies ${JSON.stringify(stats.bodies)}`,
  );
}
