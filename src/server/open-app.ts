import path from 'node:path';
import type { CutoverConfig } from '../config/schema.js';
import { DeploymentEngine, type EngineOptions } from '../engine/deployment-engine.js';
import { closeEach } from '../shared/close-each.js';
import type { Logger } from '../shared/logger.js';
import type { Platform } from '../shared/platform.js';
import type { Store } from '../shared/store.js';
import { createPlatform } from '../platforms/registry.js';
import { createRouter, type CreatedRouter } from '../routers/registry.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { Notifier } from '../notifications/notifier.js';
import { CUTOVER_VERSION } from '../shared/version.js';
import { loadOrCreatePreviewToken } from './preview-token.js';

/**
 * One app as `cutover server` and the one-shot CLI both run it: config → store → platform →
 * router → engine. The server adds its lock and admin API around it; the CLI its session lease.
 */
export interface OpenedApp {
  readonly config: CutoverConfig;
  readonly store: Store;
  readonly platform: Platform;
  readonly router: CreatedRouter;
  readonly engine: DeploymentEngine;
  /** Tells the configured webhooks what the engine does (none configured: it does nothing). */
  readonly notifier: Notifier;
}

/** Engine settings beyond config, store, router, platform and logger (a held lease, timings). */
export type AppEngineOptions = Omit<
  EngineOptions,
  'config' | 'store' | 'router' | 'platform' | 'logger' | 'slotTraffic' | 'shadow'
>;

/** The app's store: the state directory's database, shared by the server and every CLI. */
export function openAppStore(config: CutoverConfig): Store {
  return openSqliteStore(path.join(config.stateDirPath, 'cutover.db'));
}

/**
 * Builds the platform, the router (with the preview token of the state directory) and the engine
 * over `store`. Nothing is opened or recovered yet (see startApp); on a failure what was built
 * is closed again, the store excepted: it is the caller's, which closes it last.
 */
export async function assembleApp(
  config: CutoverConfig,
  store: Store,
  logger: Logger,
  engine: AppEngineOptions = {},
  { upgrade = false }: { upgrade?: boolean } = {},
): Promise<OpenedApp> {
  // First: a notifier whose URL or key file is missing fails here, before anything is built.
  const notifier = Notifier.fromConfig(config, logger, CUTOVER_VERSION);
  const platform = await createPlatform(config, logger);
  let router: CreatedRouter | undefined;
  try {
    // Its own secret: the preview header crosses the public listener, the admin token must not.
    // `upgrade`: a builtin router hands its data plane over from the workers of an older server.
    router = await createRouter(config, {
      logger,
      previewToken: loadOrCreatePreviewToken(config.stateDirPath),
      upgrade,
    });
    const deploymentEngine = new DeploymentEngine({
      config,
      store,
      router: router.router,
      platform,
      logger,
      ...(router.slotTraffic === undefined ? {} : { slotTraffic: router.slotTraffic }),
      ...(router.shadowReadings === undefined ? {} : { shadow: router.shadowReadings }),
      ...engine,
    });
    notifier.attach(deploymentEngine.events);
    return { config, store, platform, router, engine: deploymentEngine, notifier };
  } catch (error) {
    // The error that stopped the start is the one to report; a close failing on top is logged.
    const built = router;
    await closeEach(
      [
        { name: 'platform', close: () => platform.close() },
        ...(built === undefined ? [] : [{ name: 'router', close: () => built.router.close() }]),
      ],
      logger,
    );
    throw error;
  }
}

/**
 * Opens the router and recovers from the journal: the routing table is restored before a router
 * that holds the data plane itself (builtin) opens its public listener, so a client is refused
 * while the app starts, never answered from an empty table; then every unfinished deployment
 * resumes.
 */
export async function startApp(app: OpenedApp): Promise<void> {
  const { router, engine } = app;
  const holdsTraffic = router.openWithoutTraffic !== undefined;
  await (router.openWithoutTraffic?.() ?? router.router.open());
  await engine.restoreRouting();
  if (holdsTraffic) await router.router.open();
  await engine.resumeDeployments();
}

/**
 * Runs stop at a safe point first (journaled, resumed at the next start), and only then do the
 * platform and the router close, so no run touches a closed router and records a failure. The
 * store stays open: the caller's last writes (a lease released) go before it closes it.
 */
export async function closeApp(
  app: OpenedApp,
  logger: Logger,
  { routerOpened = true, leaveDataPlane = false } = {},
): Promise<void> {
  // Not among the parts below: runs still going when it fails must not meet a closed router
  // (the journal carries them to the next start, as after a crash).
  try {
    await app.engine.close();
  } catch (error) {
    logger.error('app.close_failed', { part: 'engine', error });
    throw error;
  }
  const { router } = app;
  // Each part closes even when one before it failed; the first failure is thrown at the end.
  const failure = await closeEach(
    [
      // What the runs said last (a failure, a promotion) goes out before the process may exit.
      { name: 'notifier', close: () => app.notifier.close() },
      { name: 'platform', close: () => app.platform.close() },
      // A read-only one-shot verb never opened it: nothing of its data plane to let go of.
      ...(!routerOpened
        ? []
        : [
            {
              name: 'router',
              // The builtin proxy's workers keep serving for a successor server to adopt (an upgrade).
              close: () =>
                leaveDataPlane && router.leaveRunning ? router.leaveRunning() : router.router.close(),
            },
          ]),
    ],
    logger,
  );
  if (failure !== undefined) throw failure;
}
