/**
 * The engine stops a retired slot with the stop grace the Platform reports (describe()), the
 * setting every platform has, not with a field it reads from one platform kind's config. The
 * platform here is the real process platform, seen through a wrapper that reports another
 * grace than the config file's and records each stop.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { DeploymentEngine } from '../../src/engine/deployment-engine.js';
import { createPlatform } from '../../src/platforms/registry.js';
import { createRouter } from '../../src/routers/registry.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { Platform, StopOptions } from '../../src/shared/platform.js';
import type { Slot } from '../../src/shared/slot.js';
import type { Store } from '../../src/shared/store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { CutoverHarness } from './harness.js';
import { waitForPhase } from './in-process-engine.js';

const REPORTED_GRACE_MS = 1_234;

/** The real platform, reporting `graceMs` as its stop grace and recording every stop. */
function reportingGrace(
  platform: Platform,
  graceMs: number,
  stops: { slot: Slot; graceMs: number }[],
): Platform {
  return {
    describe: () => ({ ...platform.describe(), stopGraceMs: graceMs }),
    provision: (slot, release, options) => platform.provision(slot, release, options),
    healthTargets: (instances) => platform.healthTargets(instances),
    running: (slot) => platform.running(slot),
    logs: (slot, options) => platform.logs(slot, options),
    stop: (slot: Slot, options: StopOptions) => {
      stops.push({ slot, graceMs: options.graceMs });
      return platform.stop(slot, options);
    },
    destroy: (slot) => platform.destroy(slot),
    reconcile: (keep) => platform.reconcile(keep),
    close: () => platform.close(),
  };
}

void describe('stop grace', () => {
  let harness: CutoverHarness;
  let store: Store | undefined;
  let engine: DeploymentEngine | undefined;
  let close: (() => Promise<void>) | undefined;
  const stops: { slot: Slot; graceMs: number }[] = [];

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {} }, rollbackWindow: '200ms' });
  });
  after(async () => {
    await close?.();
    await harness?.teardown();
  });

  void it('TheEngine_RetiresTheOldSlot_WithThePlatformsReportedStopGrace', { timeout: 60_000 }, async () => {
    const config = loadConfig(harness.configFile);
    assert.equal(config.platform.stopGrace, 2_000, 'the file says 2s (the harness default)');
    store = openSqliteStore(path.join(config.stateDirPath, 'cutover.db'));
    const real = await createPlatform(config, silentLogger);
    const platform = reportingGrace(real, REPORTED_GRACE_MS, stops);
    const created = await createRouter(config, {
      logger: silentLogger,
      previewToken: 'stop-grace-preview-token',
    });
    engine = new DeploymentEngine({ config, store, router: created.router, platform, logger: silentLogger });
    const opened = { engine, store, router: created.router, platform };
    close = async () => {
      await opened.engine.close();
      await opened.platform.close();
      await opened.router.close();
      await opened.store.close();
    };
    await created.router.open();
    await engine.recover();

    const first = await engine.deploy('v1', 'test');
    await waitForPhase(store, first.deployment.id, ['standby', 'retired']);
    const second = await engine.deploy('v2', 'test');
    const retired = await waitForPhase(store, second.deployment.id, ['retired']);
    assert.ok(retired.fromSlot, 'the second deploy had an old slot');
    assert.deepEqual(
      stops.filter((stop) => stop.slot === retired.fromSlot),
      [{ slot: retired.fromSlot, graceMs: REPORTED_GRACE_MS }],
    );
  });
});
