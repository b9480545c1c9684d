import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { weightsAllOn, type SlotTargets } from '../../src/shared/slot.js';
import { createVarnishRouter } from '../../src/routers/varnish/varnish-router.js';
import { listVcls } from '../../src/routers/varnish/varnish-state.js';
import { VCL_NAME_PREFIX } from '../../src/routers/varnish/vcl.js';
import { startVersionBackend } from '../support/backend.js';
import { startVarnishHarness, type VarnishHarness } from '../support/daemons/varnish.js';
import { startHeldBackend, type HeldBackend } from '../support/held-backend.js';
import { waitFor } from '../support/load.js';
import { prepareBlueLivePair, type BlueGreenBackends } from './blue-live-pair.js';
import { getOnce, runRouterContract, sample } from './contract.js';

runRouterContract('varnish', () => startVarnishHarness());

void describe('varnish router', () => {
  let harness: VarnishHarness;
  let held: HeldBackend;
  let pair: BlueGreenBackends | undefined;
  let targets: SlotTargets;

  const loaded = () =>
    listVcls({ binary: harness.config.varnishadm, workdir: harness.workdir, timeoutMs: 10_000 });
  const active = async () => (await loaded()).find((entry) => entry.status === 'active')?.name;

  before(async () => {
    held = await startHeldBackend('blue-held');
    // A short health deadline so the "never healthy" case fails fast.
    harness = await startVarnishHarness({ router: { healthyTimeout: 2_000 } });
    await harness.router.open();
    pair = await prepareBlueLivePair(harness.router);
    targets = pair.targets;
  });

  after(async () => {
    await harness?.router.close();
    await harness?.teardown();
    await held?.close();
    await pair?.close();
  });

  void it('InFlightRequest_FinishesOnTheOldVclAcrossASwitch', async () => {
    await harness.router.prepare({
      ...targets,
      blue: [{ id: 'blue-held', host: '127.0.0.1', port: held.port }],
    });
    await harness.router.setWeights(weightsAllOn('blue'));
    const slow = getOnce(harness.publicUrl);
    await waitFor(() => held.waiting() === 1, { timeoutMs: 5_000, what: 'the slow request to reach blue' });
    const before = await active();

    await harness.router.setWeights(weightsAllOn('green'));
    assert.notEqual(await active(), before, 'a new VCL is active');
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
    const old = (await loaded()).find((entry) => entry.name === before);
    assert.ok(
      old !== undefined && old.busy >= 1,
      `the old VCL still runs the request: ${JSON.stringify(old)}`,
    );
    const draining = await harness.router.drainStatus('blue');
    assert.deepEqual(draining, { kind: 'counted', inFlight: 1, connections: 1 });

    held.release();
    const answer = await slow;
    assert.deepEqual(
      answer,
      { status: 200, body: 'blue-held' },
      'the request that spanned the switch completed',
    );
    await waitFor(
      async () => {
        const status = await harness.router.drainStatus('blue');
        return status.kind === 'counted' && status.inFlight === 0;
      },
      { timeoutMs: 10_000, what: 'blue to drain' },
    );
    await harness.router.setWeights(weightsAllOn('blue'));
    await harness.router.prepare(targets);
  });

  void it('ManySwitches_LeaveABoundedVclList', async () => {
    // Thirty distinct states, so every step compiles and loads a new VCL.
    for (let step = 0; step < 30; step++) {
      const green = (step % 9) * 10 + 10;
      await harness.router.setWeights({ blue: 100 - green, green });
    }
    await harness.router.setWeights(weightsAllOn('blue'));
    const ours = (await loaded()).filter((entry) => entry.name.startsWith(VCL_NAME_PREFIX));
    const kept = ours.filter((entry) => entry.status !== 'discarded');
    assert.ok(kept.length <= 2, `only the active and the previous VCL stay: ${JSON.stringify(kept)}`);
    // A discarded VCL lingers (cold, "busy") while an idle varnish worker thread still caches a
    // reference to it from the last request it served; it goes at that thread's next task.
    assert.ok(
      ours.length - kept.length <= 3,
      `discarded VCLs waiting on idle workers: ${JSON.stringify(ours)}`,
    );
    const files = await readdir(harness.config.vclDir!);
    assert.ok(files.length <= 2, `discarded VCL files are removed too: ${files.join(', ')}`);
  });

  void it('Rollback_ReusesThePreviousVclWithoutCompiling', async () => {
    await harness.router.setWeights(weightsAllOn('blue'));
    const blueVcl = await active();
    await harness.router.setWeights(weightsAllOn('green'));
    await harness.router.setWeights(weightsAllOn('blue'));
    assert.equal(await active(), blueVcl, 'going back is a vcl.use of the kept VCL');
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
  });

  void it('VclThatDoesNotCompile_IsRefusedAndTheActiveOneKeepsServing', async () => {
    const before = await active();
    const broken = { ...targets, green: [{ id: 'green-x', host: 'no-such-host.invalid', port: 80 }] };
    await assert.rejects(harness.router.prepare(broken), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'), String(error));
      assert.match(error.message, /varnishd refused `vcl.load`.*no-such-host\.invalid/);
      return true;
    });
    assert.equal(await active(), before, 'the active VCL did not change');
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
    const seen = await harness.router.verify();
    assert.ok(seen.kind === 'observed');
    assert.deepEqual(seen.targets, targets, 'verify still reads the targets that serve');
  });

  void it('SlotThatNeverPassesItsProbe_IsNotSwitchedTo', async () => {
    const dead = await startVersionBackend('green-dead');
    const port = dead.port;
    await dead.close();
    await harness.router.prepare({ ...targets, green: [{ id: 'green-dead', host: '127.0.0.1', port }] });
    await assert.rejects(harness.router.setWeights(weightsAllOn('green')), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'), String(error));
      assert.match(error.message, /did not pass the probe.*cutover_green_0/);
      return true;
    });
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
    assert.deepEqual(await harness.router.verify(), {
      kind: 'observed',
      weights: weightsAllOn('blue'),
      targets: { ...targets, green: [{ id: 'green-dead', host: '127.0.0.1', port }] },
    });
    await harness.router.prepare(targets);
  });

  void it('NewRouterInstance_AdoptsTheStateOfTheActiveVcl', async () => {
    await harness.router.setWeights(weightsAllOn('green'));
    const name = await active();
    const second = createVarnishRouter(harness.config, {
      logger: silentLogger,
      baseDir: harness.dir,
      previewToken: harness.previewToken,
    });
    await second.open();
    // Same state: nothing to load, nothing to switch.
    await second.setWeights(weightsAllOn('green'));
    assert.equal(await active(), name);
    await second.close();
    await harness.router.setWeights(weightsAllOn('blue'));
  });

  void it('LoadedVclFiles_AreMode0640WithTheirFoldersGroup_AndTheBootVclHoldsNoToken', async () => {
    const route = await harness.router.preview('green');
    assert.deepEqual(new Set(await sample(harness.publicUrl, 10, route.headers)), new Set(['green-1']));
    const vclDir = harness.config.vclDir!;
    const files = (await readdir(vclDir)).filter((file) => file.endsWith('.vcl'));
    assert.ok(files.length > 0);
    const folder = await stat(vclDir);
    for (const file of files) {
      const info = await stat(path.join(vclDir, file));
      assert.equal(info.mode & 0o777, 0o640, file);
      assert.equal(info.gid, folder.gid, `${file} has the group of ${vclDir}`);
      assert.ok((await readFile(path.join(vclDir, file), 'utf8')).includes(harness.previewToken), file);
    }
    const boot = await readFile(harness.config.bootVcl!, 'utf8');
    assert.ok(!boot.includes(harness.previewToken), 'the boot VCL holds no preview token');
    assert.doesNotMatch(boot, /x-cutover-preview ==/, 'and no preview route');
  });
});
