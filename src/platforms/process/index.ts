import { definePlatform } from '../descriptor.js';
import { processPlatformConfig } from './config.js';

/** Local processes, one per instance, on loopback ports. */
export const processPlatform = definePlatform({
  kind: 'process',
  configSchema: processPlatformConfig,
  capabilities: {},
  create: async (config, deps) => {
    const { createProcessPlatform } = await import('./process-platform.js');
    return createProcessPlatform(config, {
      app: deps.app,
      baseDir: deps.baseDir,
      stateDir: deps.stateDir,
      logger: deps.logger,
    });
  },
});
