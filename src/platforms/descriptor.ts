/**
 * What each platform folder exports from its index.ts: its kind, its config schema, what it can
 * do, and its factory. The registry (registry.ts), the `platform:` part of the config schema and
 * the JSON Schema are assembled from the list in descriptors.ts, so adding a platform is adding
 * a folder and one line there.
 */
import type { z } from 'zod';
import { DEFAULTS } from '../config/defaults.js';
import { duration } from '../config/fields.js';
import type { HealthCheckConfig } from '../config/health-check.js';
import type { Logger } from '../shared/logger.js';
import type { Platform, PlatformDescription } from '../shared/platform.js';

/**
 * Settings every platform has, spread into each platform's `platform:` schema. The engine reads
 * them back through the Platform (describe()), never from one platform's config.
 */
export const PLATFORM_SETTINGS = {
  stopGrace: duration()
    .default(DEFAULTS.stopGraceMs)
    .describe(
      'After the polite stop (SIGTERM, or the STOPSIGNAL), an instance has this long before it is killed',
    ),
};

/** The parsed settings every platform config carries, besides its kind. */
export interface PlatformSettings {
  /** Milliseconds. */
  readonly stopGrace: number;
}

/** What a platform factory gets besides its own `platform:` section: never the whole app config. */
export interface PlatformDeps {
  readonly app: string;
  /** Relative paths in the platform's config resolve against this (the cutover.yml directory). */
  readonly baseDir: string;
  /** cutover's state directory for this app; a platform keeps its files under `platform/<kind>/`. */
  readonly stateDir: string;
  readonly logger: Logger;
  /** The app's health check (a platform may run it while it waits for an instance to be ready). */
  readonly health: HealthCheckConfig;
}

/** What a platform can do, known before it is created (config validation reads it). */
export type PlatformCapabilities = Pick<PlatformDescription, 'endpointKind'>;

export interface PlatformDescriptor<
  K extends string = string,
  S extends z.ZodType<PlatformSettings & { readonly kind: K }> = z.ZodType<
    PlatformSettings & { readonly kind: K }
  >,
> {
  readonly kind: K;
  /** The zod schema of the `platform:` section when `kind` is this one; it spreads PLATFORM_SETTINGS. */
  readonly configSchema: S;
  readonly capabilities: PlatformCapabilities;
  /**
   * Loads the implementation (a dynamic import) and makes the platform: this file, the schema and
   * the capabilities stay free of SDKs, so a CLI verb that only reads the config starts fast.
   */
  create(config: z.output<S>, deps: PlatformDeps): Promise<Platform>;
}

/** Ties a descriptor's factory to its own schema's output type. */
export function definePlatform<
  K extends string,
  S extends z.ZodType<PlatformSettings & { readonly kind: K }>,
>(descriptor: PlatformDescriptor<K, S>): PlatformDescriptor<K, S> {
  return descriptor;
}
