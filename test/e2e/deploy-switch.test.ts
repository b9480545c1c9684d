import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLoad } from '../support/load.js';
import { CutoverHarness } from './harness.js';

describe('cutover deploy with the builtin router and process platform', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {} } });
    await harness.startServer();
  });
  after(() => harness.teardown());

  it('puts the first release live on blue', async () => {
    const result = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const output = JSON.parse(result.stdout) as {
      ok: boolean;
      deployment: { phase: string; toSlot: string };
    };
    assert.equal(output.ok, true);
    assert.equal(output.deployment.toSlot, 'blue');
    const response = await fetch(harness.trafficUrl);
    assert.equal(await response.text(), 'v1');
  });

  it('switches to v2 under keep-alive load with no failed request', async () => {
    const load = startLoad({ url: harness.trafficUrl, connections: 50 });
    const result = await harness.cli(['deploy', 'v2']);
    const stats = await load.stop();
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /standby/);
    assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
    assert.equal(stats.connectionErrors, 0);
    assert.ok((stats.bodies.v1 ?? 0) > 0 && (stats.bodies.v2 ?? 0) > 0, JSON.stringify(stats.bodies));
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v2');
  });

  it('reports status, history and logs as JSON', async () => {
    const status = JSON.parse((await harness.cli(['status', '--json'])).stdout) as {
      routing: { liveSlot: string; weights: { blue: number; green: number } };
      instances: { blue: unknown[]; green: unknown[] };
    };
    assert.equal(status.routing.liveSlot, 'green');
    assert.deepEqual(status.routing.weights, { blue: 0, green: 100 });
    assert.equal(status.instances.green.length, 2);
    assert.equal(status.instances.blue.length, 2, 'the old slot stays warm during the rollback window');

    const history = JSON.parse((await harness.cli(['history', '--json'])).stdout) as {
      deployments: Array<{ release: string }>;
    };
    assert.deepEqual(
      history.deployments.map((d) => d.release),
      ['v2', 'v1'],
    );
    const logs = JSON.parse((await harness.cli(['logs', 'green', '--json'])).stdout) as {
      lines: Array<{ line: string }>;
    };
    assert.ok(
      logs.lines.some((l) => l.line.includes('e2e v2')),
      JSON.stringify(logs.lines),
    );
  });

  it('retires the previous standby slot when the next deploy needs it', async () => {
    const result = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const history = JSON.parse((await harness.cli(['history', '--json'])).stdout) as {
      deployments: Array<{ release: string; phase: string }>;
    };
    assert.equal(history.deployments[0]?.phase, 'standby');
    assert.equal(history.deployments[1]?.phase, 'retired');
  });
});
