import { definePlatform } from '../descriptor.js';
import { processPlatformConfig } from './config.js';
import { createProcessPlatform } from './process-platform.js';

/** Local processes, one per instance, on loopback ports. */
export const processPlatform = definePlatform({
  kind: 'process',
  configSchema: processPlatformConfig,
  capabilities: {},
  create: (config, deps) =>
    createProcessPlatform(config, {
      app: deps.app,
      baseDir: deps.baseDir,
      stateDir: deps.stateDir,
      logger: deps.logger,
    }),
});
