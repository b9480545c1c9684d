import { defineRouter } from '../descriptor.js';
import { HAPROXY_CAPABILITIES } from './capabilities.js';
import { haproxyRouterConfig } from './config.js';
import { createHaproxyRouter } from './haproxy-router.js';

export const haproxyRouter = defineRouter({
  kind: 'haproxy',
  configSchema: haproxyRouterConfig,
  capabilities: HAPROXY_CAPABILITIES,
  create: (config, deps) => {
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
