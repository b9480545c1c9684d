import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLoad } from '../support/load.js';
import { CutoverHarness } from './harness.js';

describe('a green that never passes its health check', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, broken: { files: { NEVER_HEALTHY: '1' } } },
      healthDeadline: '1500ms',
    });
    await harness.startServer();
    const first = await harness.cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => harness.teardown());

  it('fails within its deadline, names the check, never sends live traffic to green, and stops it', async () => {
    const load = startLoad({ url: harness.trafficUrl, connections: 20 });
    const result = await harness.cli(['deploy', 'broken', '--json']);
    const stats = await load.stop();

    assert.equal(result.code, 1, 'exit code 1: the deployment failed and traffic stayed on the old slot');
    const output = JSON.parse(result.stdout) as {
      ok: boolean;
      deployment: { phase: string; reason: { code: string; message: string } };
    };
    assert.equal(output.deployment.phase, 'aborted');
    assert.equal(output.deployment.reason.code, 'CUTOVER_E_HEALTH');
    assert.match(output.deployment.reason.message, /http check GET \/healthz/);
    assert.match(output.deployment.reason.message, /1\.5s|1500ms/);

    assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
    assert.deepEqual(Object.keys(stats.bodies), ['v1'], 'no live request reached the broken release');
    assert.deepEqual(harness.instancePids('green'), [], 'green was stopped');

    const status = JSON.parse((await harness.cli(['status', '--json'])).stdout) as {
      routing: { liveSlot: string };
      instances: { green: unknown[] };
    };
    assert.equal(status.routing.liveSlot, 'blue');
    assert.equal(status.instances.green.length, 0);
  });
});
