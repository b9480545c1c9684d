import type { Registry } from 'prom-client';
import type { CutoverConfig, RouterConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { exportProxyMetrics } from '../server/proxy-metrics-exporter.js';
import { createBuiltinRouter } from './builtin/builtin-router.js';
import { createCaddyRouter } from './caddy/caddy-router.js';
import { createHaproxyRouter } from './haproxy/haproxy-router.js';
import { createNginxRouter } from './nginx/nginx-router.js';
import { createVarnishRouter } from './varnish/varnish-router.js';
import { guardRouter } from './guarded-router.js';
import type { Router } from './router.js';

/** A router plus what the control server may ask of it beyond the Router interface. */
export interface CreatedRouter {
  readonly router: Router;
  /**
   * Open the router without accepting traffic yet (builtin: no listener bound); router.open()
   * then starts accepting. Lets the control server restore the routing table first.
   */
  openWithoutTraffic?(): Promise<void>;
  /** Where live traffic enters, when cutover owns the listener (builtin). */
  trafficUrl?(): string;
  previewUrl?(): string | undefined;
  registerMetrics?(registry: Registry): void;
}

export interface RouterDeps {
  readonly logger: Logger;
  /**
   * The app's preview token (server/preview-token.ts, never the admin token): every router lets
   * the preview header reach the idle slot only with exactly this value.
   */
  readonly previewToken: string;
}

type RouterKind = RouterConfig['kind'];
type RouterFactory<K extends RouterKind> = (
  config: Extract<RouterConfig, { kind: K }>,
  app: CutoverConfig,
  deps: RouterDeps,
) => CreatedRouter;

const url = (address: { address: string; port: number }): string =>
  `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

/** One entry per router kind; a kind in the schema without a factory fails to compile. */
const ROUTERS = {
  builtin: (config, app, deps) => {
    const router = createBuiltinRouter(config, {
      listen: app.listen,
      logger: deps.logger,
      previewToken: deps.previewToken,
    });
    const guarded = guardRouter(router);
    return {
      router: guarded,
      openWithoutTraffic: () => guarded.exclusive(() => router.open({ listen: false })),
      trafficUrl: () => url(router.address().live),
      previewUrl: () => {
        const preview = router.address().preview;
        return preview ? url(preview) : undefined;
      },
      registerMetrics: (registry) => exportProxyMetrics(router.metrics, registry),
    };
  },
  nginx: (config, app, deps) => ({
    router: createNginxRouter(config, {
      logger: deps.logger,
      baseDir: app.baseDir,
      previewToken: deps.previewToken,
    }),
  }),
  haproxy: (config, app, deps) => ({
    router: createHaproxyRouter(config, {
      logger: deps.logger,
      baseDir: app.baseDir,
      previewToken: deps.previewToken,
    }),
  }),
  varnish: (config, app, deps) => ({
    router: createVarnishRouter(config, {
      logger: deps.logger,
      baseDir: app.baseDir,
      previewToken: deps.previewToken,
    }),
  }),
  caddy: (config, app, deps) => ({
    router: createCaddyRouter(config, {
      logger: deps.logger,
      baseDir: app.baseDir,
      stateDir: app.stateDirPath,
      previewToken: deps.previewToken,
    }),
  }),
} satisfies { [K in RouterKind]: RouterFactory<K> };

/** Every router comes out wrapped in the guard layer (guarded-router.ts): one set of invariants. */
export function createRouter(config: CutoverConfig, deps: RouterDeps): CreatedRouter {
  const factory = ROUTERS[config.router.kind] as RouterFactory<RouterKind>;
  const created = factory(config.router, config, {
    ...deps,
    logger: deps.logger.child({ router: config.router.kind }),
  });
  return { ...created, router: guardRouter(created.router) };
}
