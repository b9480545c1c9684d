import { defineRouter } from '../descriptor.js';
import { CADDY_CAPABILITIES } from './capabilities.js';
import { caddyRouterConfig } from './config.js';

export const caddyRouter = defineRouter({
  kind: 'caddy',
  configSchema: caddyRouterConfig,
  capabilities: CADDY_CAPABILITIES,
  limits: { weighted: 'Caddy 2.6 has no weighted upstreams' },
  create: async (config, deps) => {
    const { createCaddyRouter } = await import('./caddy-router.js');
    return {
      router: createCaddyRouter(config, {
        logger: deps.logger,
        baseDir: deps.baseDir,
        stateDir: deps.stateDir,
        previewToken: deps.previewToken,
      }),
    };
  },
});
