import { defineRouter } from '../descriptor.js';
import { HAPROXY_CAPABILITIES } from './capabilities.js';
import { haproxyRouterConfig } from './config.js';

export const haproxyRouter = defineRouter({
  kind: 'haproxy',
  configSchema: haproxyRouterConfig,
  capabilities: HAPROXY_CAPABILITIES,
  create: async (config, deps) => {
    const { createHaproxyRouter } = await import('./haproxy-router.js');
    const router = createHaproxyRouter(config, {
      logger: deps.logger,
      baseDir: deps.baseDir,
      previewToken: deps.previewToken,
    });
    return {
      router,
      slotTraffic: { name: 'haproxy show stat', read: () => router.slotTraffic() },
    };
  },
});
