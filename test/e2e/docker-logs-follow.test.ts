/**
 * `cutover logs -f` against a real container (podman) that keeps printing: through `cutover
 * server`'s streaming route, and in one-shot mode (no server, nginx as the router) where the
 * CLI follows the engine itself. Lines written after the follow started arrive; Ctrl-C ends it
 * with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { labelFilter } from '../../src/platforms/docker/container-naming.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { startPodman, type PodmanEngine } from '../support/daemons/podman.js';
import { buildTestImage, TEST_IMAGE_REPO } from '../support/docker-test-image.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
/** The test app, plus a line "tick <n>" every 200 ms on stdout. */
const TICKING = 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done & exec /bin/sh /app/serve';

interface Following {
  output(): string;
  /** Ctrl-C, and the exit code. */
  interrupt(): Promise<number | null>;
}

void describe('cutover logs -f follows container logs (podman)', { timeout: 300_000 }, () => {
  let engine: PodmanEngine;
  let docker: Docker;
  let nginx: RouterDaemon;
  let harness: CutoverHarness;

  function follow(args: string[]): Following {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'logs', ...args, '-c', harness.configFile], {
      cwd: harness.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      output: () => output,
      interrupt: async () => {
        child.kill('SIGINT');
        return exited;
      },
    };
  }

  const ticks = (output: string): number[] =>
    [...output.matchAll(/tick (\d+)/g)].map((match) => Number(match[1]));

  before(async () => {
    engine = await startPodman();
    docker = new Docker({ socketPath: engine.socket });
    await buildTestImage(docker, ['v1']);
    nginx = await daemonFrom(() => startNginxHarness({ mode: 'lua' }), { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: {},
      router: { config: nginx.config, url: nginx.url },
      platform: {
        kind: 'docker',
        socket: engine.dockerHost,
        image: `${TEST_IMAGE_REPO}:\${RELEASE}`,
        port: 8000,
        pull: 'never',
        instances: 1,
        stopGrace: '1s',
        command: ['/bin/sh', '-c', TICKING],
      },
    });
    await harness.startServer();
    const deploy = await harness.cli(['deploy', 'v1']);
    assert.equal(deploy.code, 0, deploy.stderr + deploy.stdout);
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      try {
        await nginx?.teardown();
      } finally {
        for (const container of (await docker?.listContainers({ all: true, filters: labelFilter('e2e') })) ??
          [])
          await docker.getContainer(container.Id).remove({ force: true });
        await engine?.stop();
      }
    }
  });

  void it('LogsFollow_ThroughTheServer_PrintsLinesWrittenAfterItStarted', async () => {
    const following = follow(['blue', '-f', '-n', '1']);
    // -n 1 gives one line from before; every further tick was written while it followed.
    await waitFor(() => ticks(following.output()).length >= 4, {
      timeoutMs: 30_000,
      what: `four tick lines from cutover logs -f (so far: ${following.output()})`,
    });
    const code = await following.interrupt();
    const seen = ticks(following.output());
    assert.equal(code, 0, following.output());
    assert.deepEqual(
      seen,
      seen.map((_, i) => seen[0]! + i),
      'consecutive ticks, in order',
    );
    assert.match(following.output(), /^blue-0-v1 \| tick \d+$/m);
  });

  void it('LogsFollow_OneShotWithoutServer_FollowsTheEngineItself', async () => {
    await harness.stopServer();
    const following = follow(['blue', '-f', '--json']);
    await waitFor(() => ticks(following.output()).length >= 3, {
      timeoutMs: 60_000,
      what: `three tick lines from one-shot cutover logs -f (so far: ${following.output()})`,
    });
    const code = await following.interrupt();
    assert.equal(code, 0, following.output());
    const lines = following
      .output()
      .split('\n')
      .filter((line) => line.includes('tick'))
      .map((line) => JSON.parse(line) as { instanceId: string; stream: string; line: string });
    assert.ok(lines.length >= 3);
    for (const line of lines) {
      assert.equal(line.stream, 'stdout');
      assert.match(line.instanceId, /^blue-0-v1$/);
      assert.match(line.line, /^tick \d+$/);
    }
  });
});

void describe('cutover logs -f on a platform that cannot follow', { timeout: 60_000 }, () => {
  void it('LogsFollow_ProcessPlatform_FailsNamingThePlatformAndTheOneShotRead', async () => {
    const harness = await CutoverHarness.create({ releases: {} });
    try {
      await harness.startServer();
      const result = await harness.cli(['logs', '-f']);
      assert.equal(result.code, 2, result.stderr + result.stdout);
      assert.match(result.stderr + result.stdout, /CUTOVER_E_BAD_REQUEST/);
      assert.match(result.stderr + result.stdout, /the process platform cannot follow logs/);
    } finally {
      await harness.teardown();
    }
  });
});
