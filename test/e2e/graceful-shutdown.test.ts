/**
 * SIGTERM to `cutover server` during a deployment (builtin router): the engine stops its runs
 * at a safe point before the router closes, so the deployment stays journaled where it was,
 * is never recorded as aborted, and goes on to standby after the next start.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { DeploymentRecord } from '../../src/shared/store.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';

describe('graceful shutdown during a deployment', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: { files: { UNHEALTHY_FOR_MS: '4000' } }, v3: {}, v4: {} },
      drainTimeout: '30s',
      extraYaml: ['strategy:', '  kind: shift', '  steps: [{ weight: 50, pause: 4s }, { weight: 100 }]'].join(
        '\n',
      ),
    });
    await harness.startServer();
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
  });
  after(() => harness.teardown());

  async function storedState(
    id: string,
  ): Promise<{ record: DeploymentRecord | undefined; journal: string[] }> {
    const store = openSqliteStore(path.join(harness.stateDir, 'cutover.db'));
    try {
      return {
        record: await store.getDeployment(id),
        journal: (await store.journal(id)).map((entry) => entry.phase),
      };
    } finally {
      await store.close();
    }
  }

  async function startDeploy(release: string): Promise<string> {
    const { status, body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release,
    });
    assert.equal(status, 202);
    return body.deployment.id;
  }

  /** SIGTERM while `id` is in `phase`; then the record is untouched and a restart finishes it. */
  async function terminateDuring(id: string, phase: string, release: string): Promise<void> {
    await harness.stopServer();
    const stopped = await storedState(id);
    assert.equal(stopped.record?.phase, phase, 'left journaled where it was');
    assert.equal(stopped.record?.reason, null);

    await harness.startServer();
    await harness.waitForPhase(id, ['standby', 'aborted'], 60_000);
    const resumed = await storedState(id);
    assert.equal(resumed.record?.phase, 'standby');
    assert.ok(
      !resumed.journal.includes('aborting') && !resumed.journal.includes('aborted'),
      resumed.journal.join(' '),
    );
    assert.equal(await (await fetch(harness.trafficUrl)).text(), release);
  }

  it('SIGTERM while verifying: the run resumes after restart, never recorded as aborted', async () => {
    const id = await startDeploy('v2');
    await harness.waitForPhase(id, ['verifying']);
    await terminateDuring(id, 'verifying', 'v2');
  });

  it('SIGTERM while shifting: the run resumes after restart, never recorded as aborted', async () => {
    const id = await startDeploy('v3');
    await harness.waitForPhase(id, ['shifting']);
    await waitFor(async () => {
      const { body } = await harness.api<{ routing: { weights: { blue: number } } }>('GET', '/v1/status');
      return body.routing.weights.blue === 50;
    });
    await terminateDuring(id, 'shifting', 'v3');
  });

  it('SIGTERM while draining: the run resumes after restart, never recorded as aborted', async () => {
    // A request in flight on the live slot holds the drain of the next deploy open (it is sent
    // seconds before: provisioning, health and the 4 s shift pause come first).
    const slow = fetch(`${harness.trafficUrl}/slow?ms=20000`).then(
      (response) => response.text(),
      (error: unknown) => `cut: ${String(error)}`,
    );
    const id = await startDeploy('v4');
    await harness.waitForPhase(id, ['draining'], 60_000);
    await terminateDuring(id, 'draining', 'v4');
    await slow;
  });
});
