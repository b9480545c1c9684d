import type { CutoverConfig, PlatformConfig } from '../config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { Platform } from '../shared/platform.js';
import { createProcessPlatform } from './process/process-platform.js';
import { createDockerPlatform } from './docker/docker-platform.js';

type PlatformKind = PlatformConfig['kind'];
type PlatformFactory<K extends PlatformKind> = (
  config: Extract<PlatformConfig, { kind: K }>,
  app: CutoverConfig,
  logger: Logger,
) => Platform;

/** One entry per platform kind; adding a kind to the config schema without a factory fails to compile. */
const PLATFORMS = {
  process: (config, app, logger) =>
    createProcessPlatform(config, {
      app: app.app,
      baseDir: app.baseDir,
      stateDir: app.stateDirPath,
      logger: logger.child({ platform: 'process' }),
    }),
  docker: (config, app, logger) =>
    createDockerPlatform(config, {
      app: app.app,
      baseDir: app.baseDir,
      health: app.health,
      logger: logger.child({ platform: 'docker' }),
    }),
} satisfies { [K in PlatformKind]: PlatformFactory<K> };

export function createPlatform(config: CutoverConfig, logger: Logger): Platform {
  const factory = PLATFORMS[config.platform.kind] as PlatformFactory<PlatformKind>;
  return factory(config.platform, config, logger);
}
