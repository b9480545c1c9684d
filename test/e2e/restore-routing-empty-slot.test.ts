/**
 * After a restart the store puts all weight on a slot whose instances are gone, while the other
 * slot's instances run but fail their health check. A router refuses weight on a slot with no
 * instances (CUTOVER_E_EMPTY_SLOT), so restoring the stored routing as it is would stop the
 * start. The engine decides instead: traffic goes to the instances that still run, and the log
 * says why.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { weightsAllOn } from '../../src/shared/slot.js';
import { CutoverHarness } from './harness.js';
import { deployToStandby, servedBy, startInProcess, type InProcessEngine } from './in-process-engine.js';

void describe('restoring routing onto a slot whose instances are gone', () => {
  let harness: CutoverHarness;
  let app: InProcessEngine | undefined;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {} } });
  });
  after(async () => {
    await app?.close();
    await harness?.teardown();
  });

  void it('RestartWithTheLiveSlotGoneAndTheOtherUnhealthy_ServesTheOtherAndSaysSo', async () => {
    app = await startInProcess(harness);
    await deployToStandby(app, 'v1');
    await deployToStandby(app, 'v2');
    assert.equal((await app.store.getRouting('e2e'))?.liveSlot, 'green');
    await app.close();
    app = undefined;

    // Green's instances die with the engine down; blue's keep running but now fail their check
    // (the status the check expects changed in the config, as an operator's edit would).
    for (const pid of harness.instancePids('green')) process.kill(-pid, 'SIGKILL');
    const config = readFileSync(harness.configFile, 'utf8');
    writeFileSync(harness.configFile, config.replace('path: /healthz', 'path: /healthz, expectStatus: 418'));

    app = await startInProcess(harness);

    const routing = await app.store.getRouting('e2e');
    assert.equal(routing?.liveSlot, 'blue');
    assert.deepEqual(routing?.weights, weightsAllOn('blue'));
    assert.deepEqual(routing?.targets.green, []);
    assert.equal(routing?.readBack?.kind, 'verified');
    const said = app.logs.find((record) => record.event === 'recover.weight-off-empty-slot');
    assert.ok(said, `the move is logged: ${JSON.stringify(app.logs.map((record) => record.event))}`);
    assert.equal(said.level, 'error');
    assert.match(String(said.detail), /green has no running instance and blue fails its health check/);
    for (let i = 0; i < 5; i += 1) assert.equal(await servedBy(harness.trafficUrl), 'v1');
  });
});
