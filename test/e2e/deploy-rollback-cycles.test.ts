import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLoad } from '../support/load.js';
import { CutoverHarness } from './harness.js';

const CYCLES = Number(process.env.CUTOVER_E2E_CYCLES ?? 100);

interface Deployment {
  id: string;
  phase: string;
}

describe(`${CYCLES} alternating deploys and rollbacks under keep-alive load`, () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      instances: 1,
      drainTimeout: '1s',
    });
    await harness.startServer();
    const first = await harness.cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => harness.teardown());

  it('drops no request and sees no connection error', async () => {
    const load = startLoad({ url: harness.trafficUrl, connections: 50, maxDurationMs: 900_000 });
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const deploy = await harness.api<{ deployment: Deployment }>('POST', '/v1/deployments', {
        release: 'v2',
        requestedBy: 'cycles',
      });
      assert.equal(deploy.status, 202, JSON.stringify(deploy.body));
      const phase = await harness.waitForPhase(deploy.body.deployment.id, ['standby', 'aborted']);
      if (phase !== 'standby') {
        const { body } = await harness.api('GET', `/v1/deployments/${deploy.body.deployment.id}`);
        assert.fail(`cycle ${cycle}: ${phase}: ${JSON.stringify(body)}`);
      }
      const rollback = await harness.api<{ deployment: Deployment }>('POST', '/v1/rollback', {
        requestedBy: 'cycles',
      });
      assert.equal(rollback.status, 200, JSON.stringify(rollback.body));
    }
    const stats = await load.stop();
    console.log(
      `# ${CYCLES} deploy+rollback cycles: ${stats.sent} requests, ${stats.failed} failed, ${stats.connectionErrors} connection errors, bodies ${JSON.stringify(stats.bodies)}`,
    );
    assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
    assert.equal(stats.connectionErrors, 0);
    assert.ok((stats.bodies.v2 ?? 0) > 0);
  });
});
