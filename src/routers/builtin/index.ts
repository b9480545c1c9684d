import { defineRouter } from '../descriptor.js';
import { BUILTIN_CAPABILITIES } from './capabilities.js';
import { builtinRouterConfig } from './config.js';
import { guardRouter } from '../guarded-router.js';

const url = (address: { address: string; port: number }): string =>
  `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

/** cutover's own proxy (src/proxy) as the data plane. */
export const builtinRouter = defineRouter({
  kind: 'builtin',
  configSchema: builtinRouterConfig,
  capabilities: BUILTIN_CAPABILITIES,
  create: async (config, deps) => {
    const { createBuiltinRouter } = await import('./builtin-router.js');
    const router = createBuiltinRouter(config, {
      logger: deps.logger,
      previewToken: deps.previewToken,
      stateDir: deps.stateDir,
      takeOverWorkers: deps.upgrade,
    });
    // The two-phase open goes through the same guard createRouter puts above the router.
    const guarded = guardRouter(router);
    return {
      router: guarded,
      openWithoutTraffic: () => guarded.exclusive(() => router.open({ listen: false })),
      trafficUrl: () => url(router.address().live),
      previewUrl: () => {
        const preview = router.address().preview;
        return preview ? url(preview) : undefined;
      },
      leaveRunning: () => guarded.exclusive(() => router.detach()),
      proxyMetrics: router.metrics,
      refreshProxyMetrics: () => router.refreshMetrics(),
      shadowReadings: router.shadow,
    };
  },
});
