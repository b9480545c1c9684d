import { defineRouter } from '../descriptor.js';
import { NGINX_CAPABILITIES } from './capabilities.js';
import { nginxRouterConfig } from './config.js';

export const nginxRouter = defineRouter({
  kind: 'nginx',
  configSchema: nginxRouterConfig,
  capabilities: NGINX_CAPABILITIES,
  limits: { verifiable: 'open-source nginx cannot report its live upstreams (except in mode: lua)' },
  create: async (config, deps) => {
    const { createNginxRouter } = await import('./nginx-router.js');
    return {
      router: createNginxRouter(config, {
        logger: deps.logger,
        baseDir: deps.baseDir,
        previewToken: deps.previewToken,
      }),
    };
  },
});
