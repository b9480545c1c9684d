import { defineRouter } from '../descriptor.js';
import { VARNISH_CAPABILITIES } from './capabilities.js';
import { varnishRouterConfig } from './config.js';

export const varnishRouter = defineRouter({
  kind: 'varnish',
  configSchema: varnishRouterConfig,
  capabilities: VARNISH_CAPABILITIES,
  create: async (config, deps) => {
    const { createVarnishRouter } = await import('./varnish-router.js');
    return {
      router: createVarnishRouter(config, {
        logger: deps.logger,
        baseDir: deps.baseDir,
        previewToken: deps.previewToken,
      }),
    };
  },
});
