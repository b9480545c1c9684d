/**
 * kill -9 of `cutover server` between the journaled intent of a rollback or abort and the
 * traffic move (and right after the move, before the final phase): the next start finishes
 * the move, writes the final phase and stops the new slot. Builtin router and a real HAProxy.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineCrashPoint } from '../../src/shared/crash-point.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

const ROUTERS: Array<{ kind: string; startDaemon?: () => Promise<RouterDaemon> }> = [
  { kind: 'builtin' },
  { kind: 'haproxy', startDaemon: daemonFrom(startHaproxyHarness, { closeHarnessRouter: true }) },
];

for (const { kind, startDaemon } of ROUTERS) {
  void describe(`rollback and abort survive kill -9 around the move (${kind})`, () => {
    let daemon: RouterDaemon | undefined;
    let harness: CutoverHarness;

    before(async () => {
      daemon = await startDaemon?.();
      harness = await CutoverHarness.create({
        releases: { v1: {}, v2: {}, v3: { files: { UNHEALTHY_FOR_MS: '600000' } }, v4: {}, v5: {} },
        ...(daemon ? { router: { config: daemon.config, url: daemon.url } } : {}),
      });
      await harness.startServer();
      assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        await daemon?.teardown();
      }
    });

    /** Restarts the server armed with a crash point, runs `verb`, and waits for the SIGKILL. */
    async function crashDuring(point: EngineCrashPoint, verb: string[]): Promise<void> {
      await harness.stopServer();
      await harness.startServer({ CUTOVER_TEST_CRASH_AT_POINT: point });
      const child = harness.server!;
      const killed = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      const result = await harness.cli(verb);
      assert.notEqual(result.code, 0, 'the server died under the verb');
      assert.equal(await killed, 'SIGKILL');
      harness.server = undefined;
    }

    async function phaseInStore(id: string): Promise<string | undefined> {
      const store = openSqliteStore(path.join(harness.stateDir, 'cutover.db'));
      try {
        return (await store.getDeployment(id))?.phase;
      } finally {
        await store.close();
      }
    }

    async function served(): Promise<string> {
      return (await (await fetch(harness.trafficUrl, { headers: { connection: 'close' } })).text()).trim();
    }

    async function assertConverged(id: string, phase: string, release: string): Promise<void> {
      await harness.waitForPhase(id, [phase]);
      for (let i = 0; i < 10; i += 1) assert.equal(await served(), release);
      await waitFor(
        async () => {
          const { body } = await harness.api<{
            instances: { green: unknown[] };
            routing: { targets: { green: unknown[] } };
            lease: unknown;
          }>('GET', '/v1/status');
          return body.instances.green.length === 0 && body.routing.targets.green.length === 0 && !body.lease;
        },
        { timeoutMs: 20_000, what: 'green stopped and forgotten, and the lease free' },
      );
    }

    async function deployToStandby(release: string): Promise<string> {
      const result = await harness.cli(['deploy', release, '--json']);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      return (JSON.parse(result.stdout) as { deployment: { id: string } }).deployment.id;
    }

    it('a rollback killed between its journaled intent and the move completes after the restart', async () => {
      const id = await deployToStandby('v2');
      assert.equal(await served(), 'v2');
      await crashDuring('unwind.before-move', ['rollback']);
      assert.equal(await phaseInStore(id), 'rolling-back');
      if (daemon) assert.equal(await served(), 'v2', 'traffic did not move before the crash');

      await harness.startServer();
      await assertConverged(id, 'rolled-back', 'v1');
    });

    it('an abort killed between its journaled intent and the move completes after the restart', async () => {
      const { body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
        release: 'v3',
      });
      const id = body.deployment.id;
      await harness.waitForPhase(id, ['verifying']);
      await crashDuring('unwind.before-move', ['abort', id]);
      assert.equal(await phaseInStore(id), 'aborting');

      await harness.startServer();
      await assertConverged(id, 'aborted', 'v1');
    });

    it('a rollback killed after the move, before its final phase, is completed after the restart', async () => {
      const id = await deployToStandby('v4');
      await crashDuring('unwind.after-move', ['rollback']);
      assert.equal(await phaseInStore(id), 'rolling-back');
      if (daemon) assert.equal(await served(), 'v1', 'the move reached the router before the crash');

      await harness.startServer();
      await assertConverged(id, 'rolled-back', 'v1');
    });

    it('a rollback killed after its final phase, before the new slot stopped, has it stopped after the restart', async () => {
      const id = await deployToStandby('v5');
      await crashDuring('unwind.after-final', ['rollback']);
      assert.equal(await phaseInStore(id), 'rolled-back');
      assert.ok(harness.instancePids('green').length > 0, 'green was left running');

      await harness.startServer();
      await assertConverged(id, 'rolled-back', 'v1');
    });
  });
}
