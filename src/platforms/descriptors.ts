/**
 * The list of platforms: one line per folder. The registry and the `platform:` part of the
 * config schema (and so the JSON Schema) are read from here.
 */
import { awsAsgPlatform } from './aws-asg/index.js';
import type { PlatformDescriptor } from './descriptor.js';
import { dockerPlatform } from './docker/index.js';
import { processPlatform } from './process/index.js';
import { sshPlatform } from './ssh/index.js';

/** Each key must be its descriptor's kind: a typo fails to compile. */
function definePlatforms<T extends { [K in keyof T]: PlatformDescriptor<K & string> }>(platforms: T): T {
  return platforms;
}

export const PLATFORM_DESCRIPTORS = definePlatforms({
  process: processPlatform,
  docker: dockerPlatform,
  ssh: sshPlatform,
  'aws-asg': awsAsgPlatform,
});

type Descriptors = typeof PLATFORM_DESCRIPTORS;
export type PlatformKind = keyof Descriptors;
type PlatformConfigSchema = Descriptors[PlatformKind]['configSchema'];

/** The options of the `platform:` discriminated union, in the order of the list above. */
export const PLATFORM_CONFIG_SCHEMAS = Object.values(PLATFORM_DESCRIPTORS).map(
  (descriptor) => descriptor.configSchema,
) as [PlatformConfigSchema, ...PlatformConfigSchema[]];
