/**
 * The deployment engine on the files of a CutoverHarness project (real SQLite store, real
 * process platform, the real builtin proxy on the config's listen address), with the router
 * wrapped in a SettlingRouter (a stand-in for a cloud load balancer, see settling-router.ts)
 * and, with `groups`, the platform giving each slot a `test-group` endpoint, as an Auto Scaling
 * group platform would. Used in the test process and by apps/settling-engine-app.ts, a child
 * the crash test kills.
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import { DeploymentEngine } from '../../src/engine/deployment-engine.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import type { Instance, Platform, PlatformDescription } from '../../src/shared/platform.js';
import type { Slot, SlotEndpoint, Weights } from '../../src/shared/slot.js';
import type { Store } from '../../src/shared/store.js';
import { createPlatform } from '../../src/platforms/registry.js';
import { createRouter } from '../../src/routers/registry.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { SettlingRouter, TEST_GROUP, testGroup } from './settling-router.js';

export interface SettlingEngine {
  readonly config: CutoverConfig;
  readonly engine: DeploymentEngine;
  readonly store: Store;
  readonly router: SettlingRouter;
  readonly logs: LogRecord[];
  close(): Promise<void>;
}

export interface SettlingEngineOptions {
  /** Slots are `test-group` endpoints, and the router routes by them only. */
  readonly groups: boolean;
  readonly settleTimeoutMs: number;
  readonly settleAfter?: (weights: Weights) => number;
}

export async function startSettlingEngine(
  configFile: string,
  options: SettlingEngineOptions,
): Promise<SettlingEngine> {
  const config = loadConfig(configFile);
  const logs: LogRecord[] = [];
  const logger = new Logger((record) => logs.push(record), 'debug').child({ app: config.app });
  const store = openSqliteStore(path.join(config.stateDirPath, 'cutover.db'));
  const inner = await createPlatform(config, logger);
  const platform = options.groups ? withTestGroups(inner, config.app) : inner;
  const created = await createRouter(config, { logger, previewToken: 'settling-preview-token' });
  const router = new SettlingRouter(created.router, {
    routesBy: options.groups ? 'endpoint' : 'instances',
    ...(options.settleAfter ? { settleAfter: options.settleAfter } : {}),
  });
  const guarded = guardRouter(router);
  try {
    const engine = new DeploymentEngine({
      config,
      store,
      router: guarded,
      platform,
      logger,
      settleTimeoutMs: options.settleTimeoutMs,
    });
    await guarded.open();
    await engine.recover();
    let closed: Promise<void> | undefined;
    return {
      config,
      engine,
      store,
      router,
      logs,
      close: () =>
        (closed ??= (async () => {
          await engine.close();
          await platform.close();
          await guarded.close();
          await store.close();
        })()),
    };
  } catch (error) {
    await platform.close();
    await guarded.close();
    await store.close();
    throw error;
  }
}

/** The platform, with each slot standing as a `test-group` endpoint of its instances. */
export function withTestGroups(platform: Platform, app: string): Platform {
  return {
    describe: (): PlatformDescription => ({ ...platform.describe(), endpointKind: TEST_GROUP }),
    endpoint: (slot: Slot, instances: readonly Instance[]): SlotEndpoint =>
      testGroup(`${app}-${slot}`, platform.healthTargets(instances)),
    ...(platform.checkRelease ? { checkRelease: (release: string) => platform.checkRelease!(release) } : {}),
    provision: (slot, release, provisionOptions) => platform.provision(slot, release, provisionOptions),
    healthTargets: (instances) => platform.healthTargets(instances),
    running: (slot) => platform.running(slot),
    logs: (slot, logOptions) => platform.logs(slot, logOptions),
    stop: (slot, stopOptions) => platform.stop(slot, stopOptions),
    destroy: (slot) => platform.destroy(slot),
    reconcile: (keep) => platform.reconcile(keep),
    close: () => platform.close(),
  };
}
