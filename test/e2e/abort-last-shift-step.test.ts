/**
 * An abort that arrives while the last shift step (the move to 100%) is under way wins: it is
 * journaled before the run can write `promoted`, returns as soon as traffic is verified back
 * on the old slot (not after the rollback window), and the deployment is never promoted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness } from './harness.js';
import {
  deployToStandby,
  servedBy,
  startInProcess,
  waitForPhase,
  type InProcessEngine,
} from './in-process-engine.js';

describe('abort during the last shift step', () => {
  let harness: CutoverHarness;
  let app: InProcessEngine;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      rollbackWindow: '10m',
      extraYaml: [
        'strategy:',
        '  kind: shift',
        '  steps: [{ weight: 50, pause: 100ms }, { weight: 100 }]',
      ].join('\n'),
    });
    app = await startInProcess(harness);
    await deployToStandby(app, 'v1');
  });
  after(async () => {
    await app?.close();
    await harness?.teardown();
  });

  it('returns at once and leaves traffic on the old slot', { timeout: 60_000 }, async () => {
    const lastStep = app.router.holdNextMove((weights) => weights.green === 100);
    const { deployment } = await app.engine.deploy('v2', 'test');
    await lastStep.reached;
    assert.equal((await app.store.getDeployment(deployment.id))?.phase, 'shifting');

    const abort = app.engine.abort('operator', deployment.id);
    lastStep.release();
    const aborted = await abort;

    assert.equal(aborted.phase, 'aborted');
    assert.equal(aborted.reason?.code, 'CUTOVER_E_ABORTED');
    for (let i = 0; i < 20; i += 1) assert.equal(await servedBy(harness.trafficUrl), 'v1');
    assert.deepEqual((await app.engine.traffic.current()).weights, { blue: 100, green: 0 });
    const journal = (await app.store.journal(deployment.id)).map((entry) => entry.phase);
    assert.ok(!journal.includes('promoted'), journal.join(' '));
    const audit = (await app.store.auditLog('e2e')).find((entry) => entry.action === 'abort');
    assert.equal(audit?.outcome, 'ok');
    await waitForPhase(app.store, deployment.id, ['aborted']);
  });

  it('an abort of a deployment past promotion is refused at once', async () => {
    const record = (await app.store.listDeployments('e2e', 2))[1]!;
    assert.equal(record.release, 'v1');
    await assert.rejects(
      app.engine.abort('operator', record.id),
      /cannot abort deployment .* it is (standby|retired)/,
    );
  });
});
