import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';

describe('one deployment per app at a time', () => {
  let harness: CutoverHarness;

  before(async () => {
    // v2 stays unhealthy for 6 s so its deploy is surely still running when the second
    // CLI process (slow to start on a loaded machine) asks for the lock.
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: { files: { UNHEALTHY_FOR_MS: '6000' } }, v3: {} },
    });
    await harness.startServer();
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
  });
  after(() => harness.teardown());

  it('refuses a second deploy while one is in progress, naming the holder of the lock', async () => {
    const first = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release: 'v2',
    });
    assert.equal(first.status, 202);
    const second = await harness.cli(['deploy', 'v3']);
    assert.equal(second.code, 3, 'exit code 3: locked, nothing attempted');
    assert.match(second.stderr, /lock is held by cutover@[^ ]+:\d+ d-/);
    assert.match(second.stderr, new RegExp(first.body.deployment.id));
    await harness.waitForPhase(first.body.deployment.id, ['standby']);
  });

  it('a holder that died releases the lock at lease expiry', async () => {
    await harness.stopServer();
    // A lease left behind by a cutover process on another machine: no pid check is possible.
    const store = openSqliteStore(path.join(harness.stateDir, 'cutover.db'));
    const acquired = await store.acquireLease('e2e', 'cutover@other-host:4242 d-ghost', 8_000);
    await store.close();
    assert.equal(acquired.acquired, true);
    await harness.startServer();

    const refused = await harness.cli(['deploy', 'v3']);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /cutover@other-host:4242 d-ghost/);

    let result = refused;
    await waitFor(
      async () => {
        result = await harness.cli(['deploy', 'v3']);
        return result.code !== 3;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'the dead holder lease to expire' },
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
  });
});
