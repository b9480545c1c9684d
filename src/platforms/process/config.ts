import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration } from '../../config/fields.js';

/** How long a fresh instance must stay up before provision() trusts it started (exit-at-once detection). */
export const PROCESS_START_SETTLE_MS = 500;

/**
 * Placeholders usable in command, args, env values and cwd: ${PORT}, ${RELEASE}, ${SLOT},
 * ${INSTANCE} (the instance's index in its slot: 0, 1, …) and ${HOST}. Each instance also gets
 * PORT in its environment (overridable by `env`), plus CUTOVER_APP, CUTOVER_SLOT,
 * CUTOVER_RELEASE and CUTOVER_INSTANCE.
 */
export const processPlatformConfig = z
  .object({
    kind: z.literal('process'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    /** Working directory per release, e.g. "releases/${RELEASE}"; relative to the config file. */
    cwd: z.string().min(1).default('.'),
    instances: z.number().int().min(1).max(64).default(DEFAULTS.instances),
    host: z.string().min(1).default('127.0.0.1'),
    stopGrace: duration().default(DEFAULTS.stopGraceMs),
  })
  .strict();
export type ProcessPlatformConfig = z.infer<typeof processPlatformConfig>;
