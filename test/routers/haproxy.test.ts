import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isCutoverError } from '../../src/shared/errors.js';
import { weightsAllOn } from '../../src/shared/slot.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createHaproxyRouter } from '../../src/routers/haproxy/haproxy-router.js';
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

    void it('PreviewTokenFile_IsMode0600_AndAChangedTokenReachesHaproxyAtPreview', async () => {
      const tokenFile = path.join(harness.dir, 'cutover-preview.acl');
      await harness.router.setWeights(weightsAllOn('blue'));
      await harness.router.preview('green');
      assert.equal(await readFile(tokenFile, 'utf8'), `${harness.previewToken}\n`);
      assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
      // Slots, not instances: an earlier case may have given green a second instance.
      const preview = async (token: string) =>
        new Set((await sample(harness.publicUrl, 10, { 'x-cutover-preview': token })).map(slotOfBody));
      assert.deepEqual(await preview(harness.previewToken), new Set(['green']));

      // Another token (CUTOVER_PREVIEW_TOKEN set, or the file deleted): HAProxy loaded the old one at start.
      const newToken = randomBytes(32).toString('base64url');
      const other = createHaproxyRouter(harness.config, {
        logger: silentLogger,
        baseDir: harness.dir,
        previewToken: newToken,
      });
      await other.open();
      await other.preview('green');
      assert.equal(await readFile(tokenFile, 'utf8'), `${newToken}\n`);
      assert.deepEqual(await preview(newToken), new Set(['green']));
      assert.deepEqual(
        await preview(harness.previewToken),
        new Set(['blue']),
        'the old token no longer works',
      );
      await other.close();

      await harness.router.preview('green');
      assert.deepEqual(await preview(harness.previewToken), new Set(['green']));
      assert.deepEqual(await preview(newToken), new Set(['blue']));
    });

    void it('FrontendWithoutTheTokenFile_PreviewIsRefusedNamingTheRule', async () => {
      const other = createHaproxyRouter(
        { ...harness.config, previewTokenFile: path.join(harness.dir, 'not-in-the-frontend.acl') },
        { logger: silentLogger, baseDir: harness.dir, previewToken: harness.previewToken },
      );
      await other.open();
      await assert.rejects(other.preview('green'), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'));
        assert.match(error.message, /-m str -f .*not-in-the-frontend\.acl/);
        return true;
      });
      await other.close();
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
