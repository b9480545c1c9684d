import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isCutoverError } from '../../src/core/errors.js';
import { weightsAllOn } from '../../src/core/slot.js';
import { parseServersState } from '../../src/routers/haproxy/runtime-api.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { startHaproxyHarness, type HaproxyHarness } from '../support/daemons/haproxy.js';
import { runRouterContract, sample, slotOfBody } from './contract.js';

runRouterContract('haproxy', () => startHaproxyHarness());

for (const [title, capacity] of [
  ['declared server positions', undefined],
  ['more instances than positions (runtime add server)', 1],
] as const) {
  void describe(`haproxy router: ${title}`, () => {
    let harness: HaproxyHarness;
    const backends: VersionBackend[] = [];
    const target = (backend: VersionBackend) => ({
      id: backend.version,
      host: '127.0.0.1',
      port: backend.port,
    });

    before(async () => {
      for (const version of ['blue-1', 'green-1', 'green-2'])
        backends.push(await startVersionBackend(version));
      harness = await startHaproxyHarness({ router: { maxInstancesPerSlot: capacity } });
      await harness.router.open();
      await harness.router.prepare({ blue: [target(backends[0]!)], green: [target(backends[1]!)] });
      await harness.router.setWeights(weightsAllOn('blue'));
    });

    after(async () => {
      await harness?.router.close();
      await harness?.teardown();
      await Promise.all(backends.map((backend) => backend.close()));
    });

    void it('WeightsAndNewInstances_SurviveAReloadThroughTheFiles', async () => {
      await harness.router.prepare({
        blue: [target(backends[0]!)],
        green: [target(backends[1]!), target(backends[2]!)],
      });
      await harness.router.setWeights({ blue: 25, green: 75 });
      await harness.reload();
      const seen = await harness.router.verify();
      assert.equal(seen.kind, 'observed');
      assert.deepEqual(seen.kind === 'observed' && seen.weights, { blue: 25, green: 75 });
      const bodies = await sample(harness.publicUrl, 200);
      const green = bodies.filter((body) => slotOfBody(body) === 'green');
      assert.ok(green.includes('green-2'), 'the second green instance serves after the reload');
      assert.ok(Math.abs(green.length / 2 - 75) <= 10, `green share ${green.length / 2}%`);
      const dumped = parseServersState(await readFile(path.join(harness.dir, 'server-state'), 'utf8'));
      assert.ok(
        dumped.some((server) => server.name === 'green_2' && server.port === backends[2]!.port),
        'the state file holds the second green instance',
      );
    });

    void it('HaproxyCheckRejection_SaysWhatHaproxySaid', async () => {
      const undo = await harness.rejectNextConfig();
      try {
        await assert.rejects(harness.router.setWeights({ blue: 50, green: 50 }), (error: unknown) => {
          assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'));
          assert.match(error.message, /HAProxy rejected the new config.*cutover-contract-breaks-this/);
          return true;
        });
      } finally {
        await undo();
      }
    });

    void it('SwitchBackAndForth_IsOneMapEntry', async () => {
      await harness.router.setWeights(weightsAllOn('green'));
      const map = await harness.runtime.send('show map ./cutover.map');
      assert.match(map, /live cutover_live_green/);
      assert.deepEqual(new Set((await sample(harness.publicUrl, 30)).map(slotOfBody)), new Set(['green']));
    });

    void it('RepointedPosition_NeverServesTheOldAddress', async () => {
      // Position green_1 is re-pointed from green-1 to green-2 (idle connections to green-1 must not be reused).
      await harness.router.setWeights(weightsAllOn('blue'));
      await harness.router.prepare({ blue: [target(backends[0]!)], green: [target(backends[2]!)] });
      await harness.router.setWeights(weightsAllOn('green'));
      assert.deepEqual(new Set(await sample(harness.publicUrl, 40)), new Set(['green-2']));
    });
  });
}
