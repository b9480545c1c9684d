import { defineRouter } from '../descriptor.js';
import { VARNISH_CAPABILITIES } from './capabilities.js';
import { varnishRouterConfig } from './config.js';
import { createVarnishRouter } from './varnish-router.js';

export const varnishRouter = defineRouter({
  kind: 'varnish',
  configSchema: varnishRouterConfig,
  capabilities: VARNISH_CAPABILITIES,
  create: (config, deps) => ({
    router: createVarnishRouter(config, {
      logger: deps.logger,
      baseDir: deps.baseDir,
      previewToken: deps.previewToken,
    }),
  }),
});
