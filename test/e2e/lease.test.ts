/**
 * The app lease (invariant 3) is held for as long as the work is. In-process engine with a
 * lease shrunk to 300 ms (renewed every 100 ms) so that "longer than the lease" is short; a
 * real `cutover server` child for restarts and for a second server on the same state dir.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isCutoverError } from '../../src/shared/errors.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import { deployToStandby, startInProcess, waitForPhase, type InProcessEngine } from './in-process-engine.js';

const SHORT_LEASE = { lease: { ttlMs: 300, renewEveryMs: 100 } };

describe('the lease is held for as long as the work is (in-process, 300 ms lease)', () => {
  let harness: CutoverHarness;
  let app: InProcessEngine;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: {
        v1: {},
        v2: {},
        v3: {},
        v4: { files: { UNHEALTHY_FOR_MS: '3000' } },
        v5: { files: { UNHEALTHY_FOR_MS: '5000' } },
      },
    });
    app = await startInProcess(harness, { engine: SHORT_LEASE, store: { busyTimeoutMs: 20 } });
    await deployToStandby(app, 'v1');
    await deployToStandby(app, 'v2');
  });
  after(async () => {
    await app?.close();
    await harness?.teardown();
  });

  it('a deploy whose standby takes longer to retire than the lease keeps its lock; a second deploy is refused throughout', async () => {
    // blue (v1, standby) is slow to stop: an instance finishes a 1.5 s request (5 leases) before it exits (stopGrace is 2 s).
    const [instance] = (await app.engine.status()).instances.blue;
    assert.ok(instance);
    const slow = fetch(`http://${instance.host}:${instance.port}/slow?ms=1500`).then(
      (response) => response.text(),
      (error: unknown) => `cut: ${String(error)}`,
    );
    let deployed = false;
    const deploy = app.engine.deploy('v3', 'test').finally(() => (deployed = true));
    await waitFor(async () => (await app.store.getLease('e2e')) !== undefined || deployed, {
      what: 'the lease to be taken',
    });
    let refusals = 0;
    while (!deployed) {
      const lease = await app.store.getLease('e2e');
      assert.ok(lease, 'the lease is held while the standby retires');
      assert.ok(Date.parse(lease.expiresAt) > Date.now(), `lease still valid: ${lease.expiresAt}`);
      await assert.rejects(app.engine.deploy('v4', 'test'), (error) =>
        isCutoverError(error, 'CUTOVER_E_LOCKED'),
      );
      refusals += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { deployment } = await deploy;
    assert.ok(refusals >= 10, `checked ${refusals} times over more than 3 leases`);
    assert.equal((await app.store.getLease('e2e'))?.owner.endsWith(deployment.id), true);
    await waitForPhase(app.store, deployment.id, ['standby']);
    assert.equal(await slow, 'v1');
  });

  it('a store error in the renew loop is logged and the engine goes on', async () => {
    const { deployment } = await app.engine.deploy('v4', 'test');
    // In verifying (v4 is unhealthy for 3 s) the run writes nothing: only the renewal does.
    await waitForPhase(app.store, deployment.id, ['verifying']);
    // Another connection holds the write lock: the renewal's write fails with SQLITE_BUSY.
    const other = new Database(path.join(app.config.stateDirPath, 'cutover.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await waitFor(() => app.logs.some((record) => record.event === 'lease.renew-failed'), {
        what: 'a renewal to fail',
      });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await waitForPhase(app.store, deployment.id, ['standby']);
    const failed = app.logs.find((record) => record.event === 'lease.renew-failed');
    assert.match(String(failed?.error), /database is locked|SQLITE_BUSY/i);
  });

  it('a run that loses its lease stops where it is, with CUTOVER_E_LEASE_LOST on its record', async () => {
    const before = await app.engine.traffic.current();
    // v5 stays in verifying long enough: its instances are unhealthy for 5 s.
    const { deployment } = await app.engine.deploy('v5', 'test');
    await waitForPhase(app.store, deployment.id, ['provisioning', 'verifying']);
    const owner = (await app.store.getLease('e2e'))!.owner;
    await app.store.releaseLease('e2e', owner);
    assert.equal((await app.store.acquireLease('e2e', 'cutover@elsewhere:1 d-thief', 60_000)).acquired, true);

    const stopped = await app.engine.finished(deployment.id);
    assert.ok(stopped);
    assert.ok(['provisioning', 'verifying'].includes(stopped.phase), stopped.phase);
    assert.equal(stopped.reason?.code, 'CUTOVER_E_LEASE_LOST');
    assert.deepEqual((await app.engine.traffic.current()).weights, before.weights);
    assert.equal((await app.store.getLease('e2e'))?.owner, 'cutover@elsewhere:1 d-thief');

    await app.store.releaseLease('e2e', 'cutover@elsewhere:1 d-thief');
    assert.equal((await app.engine.abort('operator', deployment.id)).phase, 'aborted');
  });
});

describe('the lease across restarts, and one server per state directory', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {}, v3: {} },
      extraYaml: 'strategy: { kind: switch, promotion: manual }',
    });
    await harness.startServer();
  });
  after(() => harness.teardown());

  async function lease(): Promise<{ owner: string } | null> {
    const { body } = await harness.api<{ lease: { owner: string } | null }>('GET', '/v1/status');
    return body.lease;
  }

  it('a deployment resumed after kill -9 holds the lease again; a second deploy is refused', async () => {
    const first = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release: 'v1',
    });
    await harness.waitForPhase(first.body.deployment.id, ['awaiting-promotion']);
    assert.equal((await harness.cli(['promote'])).code, 0);
    await harness.waitForPhase(first.body.deployment.id, ['retired']);

    const { body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release: 'v2',
    });
    const id = body.deployment.id;
    await harness.waitForPhase(id, ['awaiting-promotion']);
    await harness.killServer();
    await harness.startServer();

    const held = await lease();
    assert.equal(held?.owner, `cutover@${hostname()}:${harness.server!.pid} ${id}`);
    const second = await harness.cli(['deploy', 'v3']);
    assert.equal(second.code, 3, second.stderr);
    assert.equal((await harness.cli(['promote'])).code, 0);
    await harness.waitForPhase(id, ['standby']);
    assert.equal(await lease(), null);
  });

  it('a second server on the same state directory exits 2, naming the one that runs', async () => {
    const result = await harness.cli(['server']);
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.match(result.stderr, new RegExp(`pid ${harness.server!.pid}\\b`));
    assert.match(result.stderr, new RegExp(harness.adminUrl.replace(/[.]/g, '\\.')));
    assert.equal((await harness.api('GET', '/v1/status')).status, 200, 'the first server still answers');
  });
});
