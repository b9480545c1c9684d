/**
 * A one-shot command follows every deployment it resumed before doing its own work. One the
 * engine refused to resume (the app's lease was held when it tried) has no run to follow: the
 * command must say so and exit 3, not wait for events that never come.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

describe('one-shot mode and a deployment the engine did not resume', () => {
  let daemon: RouterDaemon | undefined;
  let harness: CutoverHarness | undefined;

  before(async () => {
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {}, v3: {} },
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

  it('OneShotCommand_WithAResumedDeploymentTheEngineRefused_ExitsLockedNamingIt_InsteadOfWaiting', async () => {
    // Two unfinished deployments that both need the lease: the first resumed takes it, so the
    // engine refuses the second (a state only a crash between two processes leaves behind).
    const store = openSqliteStore(path.join(harness!.stateDir, 'cutover.db'));
    const ids = ['dep-crashed-a', 'dep-crashed-b'];
    try {
      for (const [i, id] of ids.entries()) {
        await store.createDeployment({
          id,
          app: 'e2e',
          release: i === 0 ? 'v2' : 'v3',
          fromSlot: 'blue',
          toSlot: 'green',
          fromRelease: 'v1',
          requestedBy: 'test',
        });
        await store.transition(id, { expectedPhase: 'pending', to: 'provisioning' });
        await store.transition(id, { expectedPhase: 'provisioning', to: 'verifying' });
      }
    } finally {
      await store.close();
    }
    const result = await harness!.cli(['retire', '--json']);
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /CUTOVER_E_LOCKED/);
    assert.match(result.stdout + result.stderr, /dep-crashed-b \(verifying\) is not run by this command/);
    const after = await fetch(harness!.trafficUrl);
    assert.equal(await after.text(), 'v1', 'the live slot kept serving');
  });
});
