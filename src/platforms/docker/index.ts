import { definePlatform } from '../descriptor.js';
import { dockerPlatformConfig } from './config.js';

/** Containers on a Docker-compatible engine (Docker, podman's Docker API). */
export const dockerPlatform = definePlatform({
  kind: 'docker',
  configSchema: dockerPlatformConfig,
  capabilities: {},
  create: async (config, deps) => {
    const { createDockerPlatform } = await import('./docker-platform.js');
    return createDockerPlatform(config, {
      app: deps.app,
      baseDir: deps.baseDir,
      health: deps.health,
      logger: deps.logger,
    });
  },
});
