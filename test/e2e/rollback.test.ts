import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness } from './harness.js';

function get(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('rollback inside the window', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {} } });
    await harness.startServer();
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
    assert.equal((await harness.cli(['deploy', 'v2'])).code, 0);
  });
  after(() => harness.teardown());

  it('is a traffic move: the very next request is served by the old slot, and no instance restarts', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal(await get(harness.trafficUrl, agent), 'v2');
    const bluePids = harness.instancePids('blue');
    assert.equal(bluePids.length, 2);

    const result = await harness.cli(['rollback', '--json']);
    const returnedAt = performance.now();
    // Same keep-alive connection as before the rollback: it must carry on, now to blue.
    const body = await get(harness.trafficUrl, agent);
    const servedAfterMs = performance.now() - returnedAt;
    agent.destroy();

    assert.equal(result.code, 0, result.stderr + result.stdout);
    const parsed = JSON.parse(result.stdout) as { deployment: { phase: string } };
    assert.equal(parsed.deployment.phase, 'rolled-back');
    assert.equal(body, 'v1');
    assert.deepEqual(harness.instancePids('blue'), bluePids, 'blue instances were not restarted');
    console.log(`# first request after rollback returned served by v1 in ${servedAfterMs.toFixed(2)} ms`);
  });

  it('refuses a second rollback with a clear error and exit code 2', async () => {
    const result = await harness.cli(['rollback']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot rollback deployment d-.* it is rolled-back/);
  });
});
