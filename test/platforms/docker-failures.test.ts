// Each way a docker deploy can fail gives its own CUTOVER_E_* error with the facts needed to
// act on it, and leaves the live slot (blue, provisioned first) serving and the failed slot empty.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { isCutoverError, type CutoverError } from '../../src/shared/errors.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import type { Instance } from '../../src/shared/platform.js';
import { freePort } from '../support/daemons/common.js';
import { writeTestImageContext } from '../support/docker-test-image.js';
import { answer } from './contract.js';
import { makeDockerFixture, type DockerFixture } from './docker-fixture.js';

void describe('docker platform: failures leave the live slot serving', { timeout: 600_000 }, () => {
  let fixture: DockerFixture;
  let live: Instance[];

  before(async () => {
    fixture = await makeDockerFixture(['v1', 'v2']);
    live = await fixture.platform().provision('blue', 'v1');
  });
  after(async () => {
    await fixture?.cleanup();
  });

  /** The live slot still answers v1 and the failed green slot left no container behind. */
  async function assertLiveUntouched(): Promise<void> {
    for (const instance of live) assert.equal(await answer(instance), 'v1');
    const green = (await fixture.containers()).filter((c) => c.Labels['io.cutover.slot'] === 'green');
    assert.deepEqual(
      green.map((c) => c.Names[0]),
      [],
    );
  }

  function expectCode(code: CutoverError['code'], check: (error: CutoverError) => void = () => undefined) {
    return (error: unknown) => {
      assert.ok(isCutoverError(error, code), `expected ${code}, got ${String(error)}`);
      check(error);
      return true;
    };
  }

  void it('an unreachable engine fails with CUTOVER_E_ENGINE_UNREACHABLE naming the socket and how to start one', async () => {
    const missing = join(fixture.baseDir, 'no-engine.sock');
    const platform = fixture.platform({ socket: `unix://${missing}` });
    const names = (error: CutoverError) => {
      assert.match(error.message, new RegExp(`platform\\.socket unix://${missing.replace(/[.]/g, '\\.')}`));
      assert.match(error.message, /podman system service/);
      assert.match(error.message, /DOCKER_HOST/);
    };
    await assert.rejects(platform.checkRelease!('v2'), expectCode('CUTOVER_E_ENGINE_UNREACHABLE', names));
    await assert.rejects(
      platform.provision('green', 'v2'),
      expectCode('CUTOVER_E_ENGINE_UNREACHABLE', names),
    );
    await assertLiveUntouched();
  });

  void it('DOCKER_HOST names the engine when no socket is configured, and is named when unreachable', async () => {
    const saved = process.env.DOCKER_HOST;
    try {
      process.env.DOCKER_HOST = fixture.engine.dockerHost;
      const viaEnv = fixture.platform({ socket: undefined });
      assert.equal((await viaEnv.running('blue')).length, live.length);
      process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
      const broken = fixture.platform({ socket: undefined });
      await assert.rejects(
        broken.checkRelease!('v2'),
        expectCode('CUTOVER_E_ENGINE_UNREACHABLE', (error) =>
          assert.match(error.message, /DOCKER_HOST unix:\/\/\/nonexistent\/docker\.sock/),
        ),
      );
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  void it('an absent image with pull "never" fails checkRelease with CUTOVER_E_NOT_FOUND naming the image', async () => {
    const platform = fixture.platform();
    await assert.rejects(
      platform.checkRelease!('v9'),
      expectCode('CUTOVER_E_NOT_FOUND', (error) => {
        assert.match(error.message, /cutover-test-app:v9/);
        assert.match(error.message, /pull is "never"/);
      }),
    );
    await assertLiveUntouched();
  });

  void it('a failed pull is CUTOVER_E_NOT_FOUND and never shows the registry credentials', async () => {
    const secret = 'sup3r-s3cret-pa55word';
    process.env.CUTOVER_TEST_REGISTRY_AUTH = JSON.stringify({
      username: 'ci',
      password: secret,
      serveraddress: 'localhost:1',
    });
    const records: LogRecord[] = [];
    try {
      const platform = fixture.platform(
        {
          image: 'localhost:1/nothing:${RELEASE}',
          pull: 'missing',
          registryAuth: { env: 'CUTOVER_TEST_REGISTRY_AUTH' },
        },
        { logger: new Logger((record) => records.push(record)) },
      );
      let thrown: unknown;
      await platform.provision('green', 'v2').catch((error: unknown) => (thrown = error));
      assert.ok(isCutoverError(thrown, 'CUTOVER_E_NOT_FOUND'), String(thrown));
      assert.match((thrown as Error).message, /could not be pulled/);
      assert.doesNotMatch(
        JSON.stringify({ message: (thrown as Error).message, details: thrown.details }),
        new RegExp(secret),
      );
      assert.ok(records.some((record) => record.event === 'docker.pull.started'));
      assert.doesNotMatch(JSON.stringify(records), new RegExp(secret));
    } finally {
      delete process.env.CUTOVER_TEST_REGISTRY_AUTH;
    }
    await assertLiveUntouched();
  });

  void it('a failed build is CUTOVER_E_BUILD quoting the last build lines, streamed to the logger and the deploy progress as it ran', async () => {
    const context = join(fixture.baseDir, 'broken-build');
    await mkdir(context, { recursive: true });
    await writeTestImageContext(
      context,
      'RUN ["/bin/sh", "-c", "echo compiling the app; echo error: missing semicolon >&2; exit 7"]\n',
    );
    const records: LogRecord[] = [];
    const platform = fixture.platform(
      { image: undefined, build: { context: 'broken-build' }, pull: 'never' },
      { logger: new Logger((record) => records.push(record)) },
    );
    await platform.checkRelease!('v3');
    const progress: string[] = [];
    await assert.rejects(
      platform.provision('green', 'v3', { onProgress: (line) => progress.push(line) }),
      expectCode('CUTOVER_E_BUILD', (error) => {
        assert.match(error.message, /cutover-ctest:v3/);
        assert.match(error.message, /compiling the app/);
        assert.ok(Array.isArray(error.details.lastLines));
      }),
    );
    const streamed = records
      .filter((record) => record.event === 'docker.build.output')
      .map((record) => String(record.line));
    assert.ok(
      streamed.some((line) => line.includes('compiling the app')),
      streamed.join('\n'),
    );
    assert.ok(progress.includes('build: compiling the app'), progress.join('\n'));
    await assertLiveUntouched();
  });

  void it('a container that exits at once fails with CUTOVER_E_PROVISION, its exit code and last log lines', async () => {
    const platform = fixture.platform({ env: { EXIT_AT_ONCE: '3' } });
    await assert.rejects(
      platform.provision('green', 'v2'),
      expectCode('CUTOVER_E_PROVISION', (error) => {
        assert.match(error.message, /ctest-green-0 exited with code 3/);
        assert.match(error.message, /fatal: told to exit at once/);
        assert.equal(error.details.exitCode, 3);
      }),
    );
    await assertLiveUntouched();
  });

  void it('a container that exits while the configured probe waits for it fails with its exit code, not at the deadline', async () => {
    const health = configSchema.shape.health.parse({
      http: { path: '/never-healthy' },
      interval: '200ms',
      deadline: '60s',
    });
    const platform = fixture.platform({ env: { EXIT_AFTER: '1' } }, { health });
    const startedAt = Date.now();
    await assert.rejects(
      platform.provision('green', 'v2'),
      expectCode('CUTOVER_E_PROVISION', (error) => {
        assert.match(error.message, /exited with code 5/);
        assert.match(error.message, /giving up after 1 s/);
      }),
    );
    assert.ok(Date.now() - startedAt < 60_000, 'failed at the exit, before the health deadline');
    await assertLiveUntouched();
  });

  void it('close() ends a readiness wait under way, so a shutting-down cutover is not held by a provision', async () => {
    const health = configSchema.shape.health.parse({
      http: { path: '/never-healthy' },
      interval: '200ms',
      deadline: '10m',
    });
    const platform = fixture.platform({}, { health });
    const provision = platform.provision('green', 'v2');
    // Wait until the container runs, so close() lands in the readiness wait, not before it.
    for (;;) {
      const running = await platform.running('green');
      if (running.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const closed = platform.close();
    await assert.rejects(provision, (error: unknown) => isCutoverError(error));
    await closed;
    await assertLiveUntouched();
  });

  void it('a host port in use fails with CUTOVER_E_PORT_IN_USE naming the address', async () => {
    const taken = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(taken, '127.0.0.1', resolve));
    try {
      const platform = fixture.platform({ publish: { ports: { blue: taken + 1, green: taken } } });
      await assert.rejects(
        platform.provision('green', 'v2'),
        expectCode('CUTOVER_E_PORT_IN_USE', (error) =>
          assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${taken}`)),
        ),
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    await assertLiveUntouched();
  });

  void it('a container killed for memory fails with CUTOVER_E_OOM naming the limit', async () => {
    const platform = fixture.platform({ memory: '8m', env: { EAT_MEMORY: '1' } });
    await assert.rejects(
      platform.provision('green', 'v2'),
      expectCode('CUTOVER_E_OOM', (error) => {
        assert.match(error.message, /out of memory \(limit 8388608 bytes/);
        assert.match(error.message, /eating memory/);
      }),
    );
    await assertLiveUntouched();
  });

  void it('an image whose HEALTHCHECK fails is CUTOVER_E_HEALTH quoting the check', async () => {
    const context = join(fixture.baseDir, 'unhealthy-image');
    await mkdir(context, { recursive: true });
    await writeTestImageContext(
      context,
      'HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD ["/bin/sh", "-c", "echo database unreachable; exit 1"]\n',
    );
    const platform = fixture.platform({
      image: undefined,
      build: { context: 'unhealthy-image' },
      pull: 'never',
    });
    await assert.rejects(
      platform.provision('green', 'v2'),
      expectCode('CUTOVER_E_HEALTH', (error) =>
        assert.match(error.message, /HEALTHCHECK.*database unreachable/),
      ),
    );
    await assertLiveUntouched();
  });

  void it('a foreign container holding an instance name is named, not removed', async () => {
    const name = 'ctest-green-0';
    const foreign = await fixture.docker.createContainer({ name, Image: 'cutover-test-app:v1' });
    try {
      await assert.rejects(
        fixture.platform().provision('green', 'v2'),
        expectCode('CUTOVER_E_PROVISION', (error) =>
          assert.match(error.message, /ctest-green-0 exists and is not one of cutover's/),
        ),
      );
      assert.equal((await foreign.inspect()).Name.replace(/^\//, ''), name);
    } finally {
      await foreign.remove({ force: true });
    }
    for (const instance of live) assert.equal(await answer(instance), 'v1');
  });
});
