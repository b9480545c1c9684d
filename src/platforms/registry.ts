import type { CutoverConfig } from '../config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { Platform } from '../shared/platform.js';
import type { PlatformDescriptor } from './descriptor.js';
import { PLATFORM_DESCRIPTORS, type PlatformKind } from './descriptors.js';

/** One descriptor per platform kind, from its folder; a kind in the schema without one fails to compile. */
const PLATFORMS = PLATFORM_DESCRIPTORS satisfies { [K in PlatformKind]: PlatformDescriptor<K> };

/**
 * The platform the config asks for, from its folder's descriptor, given only what it needs. Async:
 * the descriptor imports the implementation only now, so a CLI verb that never creates a platform
 * does not pay for loading the SDKs of all of them (startup time of the CLI).
 */
export async function createPlatform(config: CutoverConfig, logger: Logger): Promise<Platform> {
  const descriptor = PLATFORMS[config.platform.kind] as PlatformDescriptor;
  return await descriptor.create(config.platform, {
    app: config.app,
    baseDir: config.baseDir,
    stateDir: config.stateDirPath,
    health: config.health,
    logger: logger.child({ platform: config.platform.kind }),
  });
}
