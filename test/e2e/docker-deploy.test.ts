// cutover server with the builtin router and the docker platform, against a real podman engine:
// deploys under keep-alive load, a rollback that restarts no container, a deploy of a missing
// image that stops nothing, and a kill -9 of the server that duplicates no container.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { labelFilter } from '../../src/platforms/docker/container-naming.js';
import { isGone } from '../../src/platforms/docker/engine.js';
import { startPodman, type PodmanEngine } from '../support/daemons/podman.js';
import { buildTestImage, TEST_IMAGE_REPO } from '../support/docker-test-image.js';
import { startLoad, waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';

interface ContainerFacts {
  id: string;
  name: string;
  slot: string;
  release: string;
  startedAt: string;
  restarts: number;
}

void describe(
  'cutover server with the docker platform (podman) and the builtin router',
  { timeout: 600_000 },
  () => {
    let engine: PodmanEngine;
    let docker: Docker;
    let harness: CutoverHarness;

    /** Every container of the e2e app, as the engine reports it. */
    async function containers(): Promise<ContainerFacts[]> {
      const listed = await docker.listContainers({ all: true, filters: labelFilter('e2e') });
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
          return {
            id: info.Id,
            name: info.Name.replace(/^\//, ''),
            slot: info.Config.Labels['io.cutover.slot'] ?? '',
            release: info.Config.Labels['io.cutover.release'] ?? '',
            startedAt: info.State.StartedAt,
            restarts: info.RestartCount,
          };
        }),
      );
      return facts.flat().sort((a, b) => a.name.localeCompare(b.name));
    }

    async function body(): Promise<string> {
      return (await fetch(harness.trafficUrl)).text();
    }

    before(async () => {
      engine = await startPodman();
      docker = new Docker({ socketPath: engine.socket });
      await buildTestImage(docker, ['v1', 'v2']);
      // Releases whose image misbehaves: "crash" exits at once, "slow" takes 4 s to listen.
      await buildTestImage(docker, ['crash'], { extraDockerfile: 'ENV EXIT_AT_ONCE=4\n' });
      await buildTestImage(docker, ['slow'], { extraDockerfile: 'ENV START_DELAY=4\n' });
      harness = await CutoverHarness.create({
        releases: {},
        platform: {
          kind: 'docker',
          socket: engine.dockerHost,
          image: `${TEST_IMAGE_REPO}:\${RELEASE}`,
          port: 8000,
          pull: 'never',
          instances: 2,
          stopGrace: '2s',
          // Every test release's image stays: the extra builds below are newer than v1 and v2.
          keepImages: 10,
        },
      });
      await harness.startServer();
    });
    after(async () => {
      await harness?.teardown();
      await engine?.stop();
    });

    void it('deploys v1, then v2 under 50 keep-alive connections with no failed request', async () => {
      const first = await harness.cli(['deploy', 'v1', '--json']);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      assert.equal(await body(), 'v1');

      const load = startLoad({ url: harness.trafficUrl, connections: 50 });
      const second = await harness.cli(['deploy', 'v2']);
      const stats = await load.stop();
      assert.equal(second.code, 0, second.stderr + second.stdout);
      assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
      assert.equal(stats.connectionErrors, 0);
      assert.ok((stats.bodies.v1 ?? 0) > 0 && (stats.bodies.v2 ?? 0) > 0, JSON.stringify(stats.bodies));
      console.log(
        `# docker e2e: ${stats.sent} requests during deploy v2 under 50 connections, ${stats.failed} failed`,
      );
      assert.equal(await body(), 'v2');
      assert.deepEqual(
        (await containers()).map((c) => `${c.name} ${c.release}`),
        ['e2e-blue-0 v1', 'e2e-blue-1 v1', 'e2e-green-0 v2', 'e2e-green-1 v2'],
      );
    });

    void it('a deploy of an absent image (pull never) fails before anything is stopped; the live slot keeps serving', async () => {
      const before = await containers();
      const result = await harness.cli(['deploy', 'v9', '--json']);
      assert.notEqual(result.code, 0);
      assert.match(result.stdout + result.stderr, /CUTOVER_E_NOT_FOUND/);
      assert.match(result.stdout + result.stderr, /cutover-test-app:v9/);
      assert.equal(await body(), 'v2');
      assert.deepEqual(await containers(), before);
    });

    void it('a deploy whose container exits at once fails (exit 1) with its exit code and last lines; the live slot keeps serving', async () => {
      const live = (await containers()).filter((c) => c.slot === 'green');
      const result = await harness.cli(['deploy', 'crash']);
      assert.equal(result.code, 1, result.stderr + result.stdout);
      assert.match(result.stdout + result.stderr, /e2e-blue-[01] exited with code 4/);
      assert.match(result.stdout + result.stderr, /fatal: told to exit at once/);
      assert.equal(await body(), 'v2');
      assert.deepEqual(
        (await containers()).filter((c) => c.slot === 'green'),
        live,
      );
      assert.deepEqual(
        (await containers()).filter((c) => c.slot === 'blue'),
        [],
        'the failed slot left no container behind',
      );
      // The next deploy brings the warm slot back for the rollback case below.
      const redeploy = await harness.cli(['deploy', 'v1']);
      assert.equal(redeploy.code, 0, redeploy.stderr + redeploy.stdout);
      const back = await harness.cli(['deploy', 'v2']);
      assert.equal(back.code, 0, back.stderr + back.stdout);
    });

    void it('kill -9 of cutover server and a restart adopt the containers: none duplicated, none restarted', async () => {
      const before = await containers();
      await harness.killServer();
      await harness.startServer();
      assert.deepEqual(await containers(), before);
      assert.equal(await body(), 'v2');
    });

    void it('rollback inside the window moves traffic to the warm slot and restarts no container', async () => {
      const before = (await containers()).filter((c) => c.slot === 'blue');
      const load = startLoad({ url: harness.trafficUrl, connections: 50 });
      const result = await harness.cli(['rollback', '--json']);
      const stats = await load.stop();
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.equal(await body(), 'v1');
      assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
      // Same containers, same start times, no restarts: the rollback was a traffic move only.
      assert.deepEqual(
        (await containers()).filter((c) => c.slot === 'blue'),
        before,
      );
    });

    void it('kill -9 of cutover server while it provisions: after a restart the deploy finishes with no duplicate container', async () => {
      const deploy = harness.cli(['deploy', 'slow']);
      await waitFor(async () => (await containers()).some((c) => c.release === 'slow'), {
        timeoutMs: 30_000,
        what: 'the slow release to have a container',
      });
      await harness.killServer();
      await deploy; // the CLI loses its server; the deployment lives on in the journal
      await harness.startServer();
      await waitFor(
        async () => {
          const history = JSON.parse((await harness.cli(['history', '--json'])).stdout) as {
            deployments: Array<{ release: string; phase: string }>;
          };
          const latest = history.deployments[0];
          return latest?.release === 'slow' && ['standby', 'aborted'].includes(latest.phase);
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'the resumed deployment of "slow" to finish' },
      );
      assert.equal(await body(), 'slow');
      assert.deepEqual(
        (await containers()).map((c) => `${c.name} ${c.release}`),
        ['e2e-blue-0 v1', 'e2e-blue-1 v1', 'e2e-green-0 slow', 'e2e-green-1 slow'],
      );
    });
  },
);
