import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/load.js';
import type { CutoverConfig, RouterConfig } from '../config/schema.js';
import type { DeploymentEngine, EngineOptions } from '../engine/deployment-engine.js';
import { readAdminTls } from '../dashboard/admin-tls.js';
import { mountDashboard } from '../dashboard/dashboard.js';
import { CutoverError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Store } from '../shared/store.js';
import { createAdminApi } from './admin-api.js';
import { loadOrCreateAdminToken } from './admin-token.js';
import { createMetricsRegistry } from './metrics-registry.js';
import { assembleApp, closeApp, openAppStore, startApp, type OpenedApp } from './open-app.js';
import { exportProxyMetrics } from './proxy-metrics-exporter.js';
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
    store = openAppStore(config);
  } catch (error) {
    lock.release();
    throw error;
  }
  const token = loadOrCreateAdminToken(config.stateDirPath);
  let app: OpenedApp | undefined;
  let admin: http.Server | undefined;
  try {
    app = await assembleApp(config, store, logger, options.engine, { upgrade: options.upgrade });
    await startApp(app);
    const metrics = createMetricsRegistry(app.engine, config.app);
    if (app.router.proxyMetrics !== undefined) {
      exportProxyMetrics(app.router.proxyMetrics, metrics, app.router.refreshProxyMetrics);
    }
    const adminDeps = {
      token,
      engine: app.engine,
      store,
      platform: app.platform,
      metrics,
      logger,
    };
    const adminApi = createAdminApi({ app: config.app, ...adminDeps });
    const tls = readAdminTls(config);
    const server = tls ? https.createServer(tls) : http.createServer();
    admin = server.on('request', mountDashboard(adminApi, { config, ...adminDeps, server }));
    await listen(admin, config.admin.listen, 'admin.listen');
  } catch (error) {
    // Close failures are logged; the error that stopped the start is the one thrown.
    if (app) await closeApp(app, logger).catch(() => undefined);
    admin?.close();
    await store.close().catch(() => undefined);
    lock.release();
    throw error;
  }
  const adminAddress = admin.address() as AddressInfo;
  const adminScheme = config.admin.tls ? 'https' : 'http';
  const adminUrl = `${adminScheme}://${formatHost(adminAddress.address)}:${adminAddress.port}`;
  const trafficUrl = app.router.trafficUrl?.();
  const previewUrl = app.router.previewUrl?.();
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

  const opened = app;
  const openedAdmin = admin;
  let closing: Promise<void> | undefined;
  return {
    config,
    engine: app.engine,
    store,
    adminUrl,
    trafficUrl,
    previewUrl,
    close: (closeOptions = {}) => {
      closing ??= (async () => {
        removeServerInfo(config.stateDirPath, process.pid);
        openedAdmin.closeAllConnections();
        await new Promise<void>((resolve) => openedAdmin.close(() => resolve()));
        // Runs stop at a safe point first, then the router closes or, for an upgrade, its
        // workers are left serving (see closeApp).
        await closeApp(opened, logger, { leaveDataPlane: closeOptions.leaveDataPlane === true });
        // Last: the engine's close() waited for its runs' and the lease keeper's last writes.
        await store.close();
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
