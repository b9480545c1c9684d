import { definePlatform } from '../descriptor.js';
import { dockerPlatformConfig } from './config.js';
import { createDockerPlatform } from './docker-platform.js';

/** Containers on a Docker-compatible engine (Docker, podman's Docker API). */
export const dockerPlatform = definePlatform({
  kind: 'docker',
  configSchema: dockerPlatformConfig,
  capabilities: {},
  create: (config, deps) =>
    createDockerPlatform(config, {
      app: deps.app,
      baseDir: deps.baseDir,
      health: deps.health,
      logger: deps.logger,
    }),
});
