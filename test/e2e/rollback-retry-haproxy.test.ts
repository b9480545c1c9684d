/**
 * `cutover rollback` while HAProxy's runtime socket is down (the daemon stopped): the verb
 * fails and the record stays rolling-back, never rolled-back; once HAProxy is back, running
 * `cutover rollback` again completes it and the new slot stops.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/shared/store.js';
import { startHaproxyHarness, type HaproxyHarness } from '../support/daemons/haproxy.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';

describe('a retried cutover rollback after a failed one (real HAProxy, socket down)', () => {
  let haproxy: HaproxyHarness;
  let harness: CutoverHarness;

  before(async () => {
    haproxy = await startHaproxyHarness();
    await haproxy.router.close();
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      router: { config: haproxy.config, url: haproxy.publicUrl },
    });
    await harness.startServer();
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
    assert.equal((await harness.cli(['deploy', 'v2'])).code, 0);
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await haproxy?.teardown();
    }
  });

  async function readStore<T>(read: (store: Store) => Promise<T>): Promise<T> {
    const store = openSqliteStore(path.join(harness.stateDir, 'cutover.db'));
    try {
      return await read(store);
    } finally {
      await store.close();
    }
  }
  const phaseOf = (id: string): Promise<string | undefined> =>
    readStore(async (store) => (await store.getDeployment(id))?.phase);
  const failedAttempts = (id: string): Promise<number> =>
    readStore(
      async (store) => (await store.journal(id)).filter((entry) => entry.data.failed !== undefined).length,
    );

  async function served(): Promise<string> {
    return (await (await fetch(haproxy.publicUrl, { headers: { connection: 'close' } })).text()).trim();
  }

  it('fails while the socket is down, leaves the record rolling-back, and completes when run again', async () => {
    assert.equal(await served(), 'v2');
    await haproxy.stopDaemon();
    const failed = await harness.cli(['rollback', '--json']);
    assert.notEqual(failed.code, 0, failed.stdout);
    const { body } = await harness.api<{ deployments: Array<{ id: string; phase: string }> }>(
      'GET',
      '/v1/deployments',
    );
    const latest = body.deployments[0]!;
    assert.equal(latest.phase, 'rolling-back');
    // The server keeps retrying (backoff 0.2 s doubling to 5 s); the record says rolling-back
    // throughout. Once the backoff is at its cap, the retried verb surely comes first.
    await waitFor(
      async () => {
        const failures = await failedAttempts(latest.id);
        assert.equal(await phaseOf(latest.id), 'rolling-back');
        return failures >= 5;
      },
      { timeoutMs: 30_000, what: 'five failed attempts' },
    );
    assert.equal(await served().catch(() => 'haproxy down'), 'haproxy down');

    await haproxy.startDaemon();
    const retried = await harness.cli(['rollback', '--json']);
    assert.equal(retried.code, 0, retried.stderr + retried.stdout);
    assert.equal(
      (JSON.parse(retried.stdout) as { deployment: { phase: string } }).deployment.phase,
      'rolled-back',
    );
    for (let i = 0; i < 10; i += 1) assert.equal(await served(), 'v1');
    await waitFor(
      async () => {
        const status = await harness.api<{ instances: { green: unknown[] } }>('GET', '/v1/status');
        return status.body.instances.green.length === 0;
      },
      { timeoutMs: 20_000, what: 'green to stop' },
    );
  });
});
