import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { CutoverConfig, RouterConfig } from '../config/schema.js';
import { DeploymentEngine, type EngineOptions } from '../engine/deployment-engine.js';
import { CutoverError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createPlatform } from '../platforms/registry.js';
import { createRouter, type CreatedRouter } from '../routers/registry.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../shared/store.js';
import { createAdminApi } from './admin-api.js';
import { loadOrCreateAdminToken } from './admin-token.js';
import { createMetricsRegistry } from './metrics-registry.js';
import { loadOrCreatePreviewToken } from './preview-token.js';
import { writeServerInfo, removeServerInfo } from './server-info.js';
import { acquireServerLock } from './server-lock.js';

export interface ControlServer {
  readonly config: CutoverConfig;
  readonly engine: DeploymentEngine;
  readonly store: Store;
  readonly adminUrl: string;
  /** Where live traffic enters (builtin router only). */
  readonly trafficUrl: string | undefined;
  readonly previewUrl: string | undefined;
  /**
   * Stops the server. `leaveDataPlane`: the builtin proxy workers keep serving for a successor
   * server to adopt (SIGUSR2, `cutover server --upgrade`) instead of being retired.
   */
  close(options?: { leaveDataPlane?: boolean }): Promise<void>;
}

export interface ControlServerOptions {
  readonly configFile: string;
  readonly logger: Logger;
  /** Override the config's listen ports (tests pass 0). */
  readonly overrides?: { listenPort?: number; adminPort?: number };
  /** Succeed a running server: the builtin proxy starts new workers and retires the old ones. */
  readonly upgrade?: boolean;
  /** Engine settings beyond the config file (tests shrink the lease with it). */
  readonly engine?: Pick<EngineOptions, 'lease'>;
}

/**
 * `cutover server`: the store, the engine, the router's data plane (builtin proxy), the admin
 * API with its event stream and /metrics. On start it reconciles from the journal before it
 * answers anything, so a crash at any instant resumes without operator help.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const loaded = loadConfig(options.configFile);
  const config: CutoverConfig = {
    ...loaded,
    router: withListenPort(loaded.router, options.overrides?.listenPort),
    admin: {
      ...loaded.admin,
      listen: { ...loaded.admin.listen, port: options.overrides?.adminPort ?? loaded.admin.listen.port },
    },
  };
  const logger = options.logger.child({ app: config.app });
  for (const { line, oldKey, newKey, message } of config.deprecations) {
    logger.warn('config.deprecated', { file: config.file, line, oldKey, newKey, message });
  }
  // Before the store is opened or anything recovered: a second server must not resume runs.
  const lock = acquireServerLock(config.stateDirPath);
  let store: Store;
  try {
    store = openSqliteStore(path.join(config.stateDirPath, 'cutover.db'));
  } catch (error) {
    lock.release();
    throw error;
  }
  const token = loadOrCreateAdminToken(config.stateDirPath);
  const platform = createPlatform(config, logger);
  let router: CreatedRouter | undefined;
  let engine: DeploymentEngine | undefined;
  let admin: http.Server | undefined;
  try {
    // Its own secret: the preview header crosses the public listener, the admin token must not.
    router = createRouter(config, {
      logger,
      previewToken: loadOrCreatePreviewToken(config.stateDirPath),
      upgrade: options.upgrade,
    });
    engine = new DeploymentEngine({
      config,
      store,
      router: router.router,
      platform,
      logger,
      ...options.engine,
    });
    // The routing table is restored before the public listener opens: a client is refused
    // while the server starts, never answered 503 from an empty table.
    const holdsTraffic = router.openWithoutTraffic !== undefined;
    await (router.openWithoutTraffic?.() ?? router.router.open());
    await engine.restoreRouting();
    if (holdsTraffic) await router.router.open();
    engine.resumeDeployments();
    const metrics = createMetricsRegistry(engine, config.app);
    router.registerMetrics?.(metrics);
    admin = http.createServer(
      createAdminApi({ app: config.app, token, engine, store, platform, metrics, logger }),
    );
    await listen(admin, config.admin.listen, 'admin.listen');
  } catch (error) {
    await engine?.close();
    await platform.close();
    await router?.router.close();
    admin?.close();
    store.close();
    lock.release();
    throw error;
  }
  const adminAddress = admin.address() as AddressInfo;
  const adminUrl = `http://${formatHost(adminAddress.address)}:${adminAddress.port}`;
  const trafficUrl = router.trafficUrl?.();
  const previewUrl = router.previewUrl?.();
  writeServerInfo(config.stateDirPath, {
    pid: process.pid,
    adminUrl,
    trafficUrl,
    previewUrl,
    startedAt: new Date().toISOString(),
  });
  logger.info('server.started', {
    adminUrl,
    trafficUrl,
    previewUrl,
    router: config.router.kind,
    platform: config.platform.kind,
  });

  const openedRouter = router;
  const openedEngine = engine;
  const openedAdmin = admin;
  let closing: Promise<void> | undefined;
  return {
    config,
    engine,
    store,
    adminUrl,
    trafficUrl,
    previewUrl,
    close: (closeOptions = {}) => {
      closing ??= (async () => {
        removeServerInfo(config.stateDirPath, process.pid);
        openedAdmin.closeAllConnections();
        await new Promise<void>((resolve) => openedAdmin.close(() => resolve()));
        // Runs stop at a safe point first (journaled, resumed at the next start): only then
        // does the router close, so no run touches a closed router and records a failure.
        await openedEngine.close();
        await platform.close();
        if (closeOptions.leaveDataPlane === true && openedRouter.leaveRunning !== undefined) {
          await openedRouter.leaveRunning();
        } else {
          await openedRouter.router.close();
        }
        store.close();
        lock.release();
        logger.info('server.stopped', { dataPlaneLeftRunning: closeOptions.leaveDataPlane === true });
      })();
      return closing;
    },
  };
}

function listen(server: http.Server, address: { host: string; port: number }, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new CutoverError(
            'CUTOVER_E_PORT_IN_USE',
            `port ${address.host}:${address.port} is already in use (${key} in cutover.yml)`,
            { cause: error },
          ),
        );
      } else reject(error);
    });
    server.listen(address.port, address.host, () => resolve());
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The builtin router's live port replaced (tests pass 0); other routers have no listener of cutover's. */
function withListenPort(router: RouterConfig, port: number | undefined): RouterConfig {
  if (port === undefined || router.kind !== 'builtin') return router;
  return { ...router, listen: { ...router.listen, port } };
}
