/**
 * What keeps one-shot mode safe beside a server: a server that starts while a one-shot deploy runs
 * refuses (it would stop the instances being started and drive the deployment twice), a later
 * server is what the CLI then talks to, the builtin router still needs its server, and a one-shot
 * deploy stopped by SIGTERM stays journaled until the next command resumes it.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';
import { processAlive, sample, startCli } from './oneshot-scenario.js';

interface StatusOutput {
  routing: { liveSlot: string };
  active: { id: string; phase: string; release: string }[];
}

describe('one-shot mode beside a server, through a real nginx', () => {
  let daemon: RouterDaemon | undefined;
  let harness: CutoverHarness | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the one-shot harness did not start');
    return harness;
  };

  before(async () => {
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: {
        v1: {},
        v2: { files: { UNHEALTHY_FOR_MS: '2500' } },
        v3: { files: { UNHEALTHY_FOR_MS: '2500' } },
      },
      router: { config: daemon.config, url: daemon.url },
    });
    const first = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await daemon?.teardown();
    }
  });

  it('SIGTERM during a one-shot deploy exits 4, leaves it journaled, and the next command resumes it', async () => {
    const cli = startCli(h(), ['deploy', 'v2']);
    await cli.waitForLine(/^verifying/m);
    cli.child.kill('SIGTERM');
    const stopped = await cli.result;
    assert.equal(stopped.code, 4, stopped.stdout + stopped.stderr);
    assert.match(stopped.stderr, /CUTOVER_E_INTERRUPTED/);
    assert.match(stopped.stderr, /resumes it/);
    const status = JSON.parse((await h().cli(['status', '--json'])).stdout) as StatusOutput;
    assert.equal(status.routing.liveSlot, 'blue', 'traffic stayed on v1');
    assert.deepEqual(
      status.active.map((deployment) => [deployment.release, deployment.phase]),
      [['v2', 'verifying']],
      'journaled where it stood, not aborted',
    );
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);

    const resumed = await h().cli(['retire', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const after = JSON.parse((await h().cli(['status', '--json'])).stdout) as StatusOutput;
    assert.deepEqual(
      after.active.map((deployment) => [deployment.release, deployment.phase]),
      [['v2', 'standby']],
    );
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v2']);
  });

  it('a server started while a one-shot deploy runs refuses to start, naming the CLI', async () => {
    const cli = startCli(h(), ['deploy', 'v3']);
    try {
      await cli.waitForLine(/^verifying/m);
      await assert.rejects(h().startServer(), (error: Error) => {
        assert.match(error.message, /CUTOVER_E_LOCKED/);
        assert.match(error.message, new RegExp(`cutover@${hostname()}:${cli.child.pid}\\b`));
        return true;
      });
    } finally {
      const done = await cli.result;
      assert.equal(done.code, 0, done.stdout + done.stderr);
    }
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v3']);
  });

  it('once a server runs, the CLI talks to it instead of running the engine', async () => {
    await h().startServer();
    const serverPid = h().server?.pid;
    assert.ok(serverPid !== undefined && processAlive(serverPid));
    const rollback = await h().cli(['rollback', '--json']);
    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    const audit = await h().api<{ audit: { action: string; actor: string }[] }>('GET', '/v1/audit');
    const last = audit.body.audit.find((entry) => entry.action === 'rollback');
    assert.ok(last, 'the server audited the rollback');
    assert.match(last.actor, /^api:/, 'the rollback went through the admin API');
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v2']);
    await h().stopServer();
  });
});

describe('one-shot mode with the builtin router', () => {
  let harness: CutoverHarness | undefined;
  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {} } });
  });
  after(async () => harness?.teardown());

  it('without a server, deploy exits 4 saying the builtin proxy lives in cutover server', async () => {
    assert.ok(harness);
    const result = await harness.cli(['deploy', 'v1']);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stderr, /CUTOVER_E_SERVER_UNREACHABLE/);
    assert.match(
      result.stderr,
      /builtin router's proxy lives in the server: start it with `cutover server -c /,
    );
  });
});
