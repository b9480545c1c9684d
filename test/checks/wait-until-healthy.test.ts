import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { waitUntilHealthy, type HealthProgress } from '../../src/checks/wait-until-healthy.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { waitFor } from '../support/load.js';
import { healthConfig, refusedTarget, startHealthServer } from './health-fixture.js';

const VERSION_APP = fileURLToPath(new URL('../support/apps/version-app.js', import.meta.url));

void describe('waitUntilHealthy', () => {
  let servers: Awaited<ReturnType<typeof startHealthServer>>[];
  before(async () => {
    servers = [await startHealthServer('green-0-v2'), await startHealthServer('green-1-v2')];
  });
  after(async () => {
    for (const server of servers) await server.close();
  });

  void it('resolves once every target passed healthyThreshold probes in a row, reporting progress', async () => {
    const check = healthConfig({ interval: '20ms', healthyThreshold: 3 });
    const progress: HealthProgress[] = [];
    const status = await waitUntilHealthy(
      servers.map((server) => server.target),
      check,
      { deadlineMs: 10_000, onProgress: (update) => progress.push(update) },
    );
    assert.equal(status.healthy, 2);
    assert.equal(status.total, 2);
    assert.equal(progress.length, 3);
    assert.deepEqual(
      progress.map((update) => update.healthy),
      [0, 0, 2],
    );
    assert.match(progress[0]!.detail, /^0\/2 healthy; green-0-v2: GET \/healthz answered 200/);
  });

  void it('counts passes in a row: a failure starts the count again', async () => {
    const [server] = servers;
    server!.setStatus(503);
    const check = healthConfig({ interval: '20ms', healthyThreshold: 2 });
    let rounds = 0;
    const waiting = waitUntilHealthy([server!.target], check, {
      deadlineMs: 10_000,
      onProgress: () => {
        rounds += 1;
        if (rounds === 3) server!.setStatus(200);
      },
    });
    const status = await waiting;
    assert.equal(status.healthy, 1);
    // Three failures, then two passes in a row.
    assert.equal(rounds, 5);
  });

  void it('fails at the deadline with CUTOVER_E_HEALTH naming the target, the check and the last result', async () => {
    const target = await refusedTarget('green-0-v2');
    const check = healthConfig({ interval: '50ms' });
    await assert.rejects(waitUntilHealthy([target], check, { deadlineMs: 300 }), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_HEALTH'), String(error));
      assert.equal(
        error.message,
        `green-0-v2 (127.0.0.1:${target.port}) did not pass the http check GET /healthz within 300ms: last result: connection refused`,
      );
      assert.deepEqual(error.details, {
        check: 'http',
        target: 'green-0-v2',
        address: `127.0.0.1:${target.port}`,
        lastDetail: 'connection refused',
      });
      return true;
    });
  });

  void it('fails before the deadline when the instance process has died', { timeout: 30_000 }, async () => {
    const target = await refusedTarget('green-0-v2');
    // A real process that never becomes healthy, then dies.
    const app = spawn(process.execPath, [VERSION_APP], {
      env: { ...process.env, PORT: String(target.port), FAIL_HEALTH: '1' },
      stdio: 'ignore',
    });
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${target.port}/`).then(
          (response) => response.ok,
          () => false,
        ),
      { what: 'the test app to listen' },
    ).catch((error: unknown) => {
      app.kill('SIGKILL');
      throw error;
    });
    const check = healthConfig({ interval: '20ms' });
    let rounds = 0;
    await assert.rejects(
      waitUntilHealthy([target], check, {
        deadlineMs: 120_000,
        isAlive: () => Promise.resolve(app.exitCode === null && app.signalCode === null),
        onProgress: () => {
          rounds += 1;
          if (rounds === 2) app.kill('SIGKILL');
        },
      }),
      (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_HEALTH'), String(error));
        assert.match(
          error.message,
          /^green-0-v2 \(127\.0\.0\.1:\d+\) exited before it passed the http check GET \/healthz: last result: /,
        );
        assert.equal(error.details.exited, true);
        return true;
      },
    );
    if (app.exitCode === null && app.signalCode === null) await once(app, 'exit');
  });

  void it('stops with CUTOVER_E_ABORTED when its signal is aborted', async () => {
    const target = await refusedTarget();
    const controller = new AbortController();
    const waiting = waitUntilHealthy([target], healthConfig({ interval: '10s' }), {
      deadlineMs: 60_000,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(waiting, (error: unknown) => isCutoverError(error, 'CUTOVER_E_ABORTED'));
  });
});
