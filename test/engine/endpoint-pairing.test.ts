/**
 * The open-time twin of the config check: an engine built with a platform whose slots are
 * endpoints of a kind its router does not list is refused before anything moves, naming both
 * keys; the router that lists the kind is accepted. Real config, store, process platform and
 * builtin router (not opened); the platform's endpoints come from withTestGroups.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import { DeploymentEngine } from '../../src/engine/deployment-engine.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { Platform } from '../../src/shared/platform.js';
import type { Store } from '../../src/shared/store.js';
import { createPlatform } from '../../src/platforms/registry.js';
import { createRouter } from '../../src/routers/registry.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { CutoverHarness } from '../e2e/harness.js';
import { withTestGroups } from '../support/settling-engine.js';
import { SettlingRouter } from '../support/settling-router.js';

void describe('endpoint platform and router at open time', () => {
  let harness: CutoverHarness;
  let config: CutoverConfig;
  let store: Store;
  let platform: Platform;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {} } });
    config = loadConfig(harness.configFile);
    store = openSqliteStore(path.join(config.stateDirPath, 'cutover.db'));
    platform = withTestGroups(await createPlatform(config, silentLogger), config.app);
  });
  after(async () => {
    await platform?.close();
    await store?.close();
    await harness?.teardown();
  });

  void it('EndpointPlatformWithARouterThatDoesNotListItsKind_IsRefusedWhenTheEngineIsBuilt', async () => {
    const { router } = await createRouter(config, { logger: silentLogger, previewToken: 'pairing-token' });
    assert.throws(
      () => new DeploymentEngine({ config, store, router, platform, logger: silentLogger }),
      (error: unknown) =>
        isCutoverError(error, 'CUTOVER_E_CONFIG') &&
        /platform\.kind "process" is an endpoint of kind test-group, which router\.kind "builtin" cannot route to/.test(
          error.message,
        ),
    );
  });

  void it('EndpointPlatformWithARouterThatListsItsKind_IsAccepted', async () => {
    const { router } = await createRouter(config, { logger: silentLogger, previewToken: 'pairing-token' });
    const engine = new DeploymentEngine({
      config,
      store,
      router: new SettlingRouter(router, { routesBy: 'endpoint' }),
      platform,
      logger: silentLogger,
    });
    await engine.close();
  });
});
