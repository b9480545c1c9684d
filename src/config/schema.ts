import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { command, duration, listenAddress } from './fields.js';
import { ROUTER_CONFIG_SCHEMAS } from '../routers/descriptors.js';
import { PLATFORM_CONFIG_SCHEMAS } from '../platforms/descriptors.js';
import { healthCheck } from './health-check.js';
import { notificationsConfig } from '../notifications/config.js';
import { analysisConfig } from './analysis.js';
import type { ConfigDeprecation } from './load.js';
import type { MovedTopLevelKey } from './moved-keys.js';

const shiftStep = z
  .object({
    /** Percent of new requests on the new slot after this step. */
    weight: z
      .number()
      .int()
      .min(1)
      .max(100)
      .describe('Percent of new requests on the new slot after this step'),
    /** Wait this long (with health checks running) before the next step. */
    pause: duration().optional().describe('Wait this long (with health checks running) before the next step'),
    /** `manual`: wait for `cutover promote` before the next step. */
    gate: z.literal('manual').optional().describe('manual: wait for `cutover promote` before the next step'),
  })
  .strict();

const strategy = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('switch'),
      /** `manual`: stop in awaiting-promotion until `cutover promote`. */
      promotion: z
        .enum(['auto', 'manual'])
        .default('auto')
        .describe('manual: stop in awaiting-promotion until `cutover promote`'),
    })
    .strict()
    .describe('Move all traffic at once: never both versions at the same time'),
  z
    .object({
      kind: z.literal('shift'),
      promotion: z.enum(['auto', 'manual']).default('auto'),
      steps: z
        .array(shiftStep)
        .min(1)
        .refine((steps) => steps.every((step, i) => i === 0 || step.weight > steps[i - 1]!.weight), {
          message: 'step weights must increase',
        }),
    })
    .strict()
    .describe('Move traffic in weighted steps, with pauses or manual gates between them'),
]);

const hook = command();
const hooks = z
  .object({
    beforeProvision: hook.optional().describe('Runs before the idle slot is started (e.g. migrations)'),
    /** Run against the idle slot through the preview route (PREVIEW_URL, PREVIEW_HEADER, PREVIEW_CURL_ARGS env). */
    smoke: hook
      .optional()
      .describe(
        'Smoke test against the idle slot through the preview route (PREVIEW_URL, PREVIEW_HEADER "Name: value", PREVIEW_CURL_ARGS env)',
      ),
    afterPromote: hook.optional().describe('Runs after the new slot is live'),
    afterRollback: hook.optional().describe('Runs after a rollback put the old slot back'),
    timeout: duration().default(DEFAULTS.hookTimeoutMs).describe('A hook running longer than this fails'),
    killGrace: duration()
      .default(DEFAULTS.hookKillGraceMs)
      .describe('A hook stopped at its timeout or by an abort gets SIGTERM, then SIGKILL this long after'),
  })
  .strict();

/** One option per router folder, from its descriptor (src/routers/descriptors.ts). */
export const routerConfig = z.discriminatedUnion('kind', ROUTER_CONFIG_SCHEMAS);

/** One option per platform folder, from its descriptor (src/platforms/descriptors.ts). */
export const platformConfig = z.discriminatedUnion('kind', PLATFORM_CONFIG_SCHEMAS);

export const configSchema = z
  .object({
    /** Name of the app; one deployment per app at a time. */
    app: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes')
      .describe('Name of the app (lowercase letters, digits and dashes); one deployment per app at a time'),
    /** Deprecated: moved to router.listen (config/moved-keys.ts); still read, with a warning. */
    listen: listenAddress()
      .optional()
      .meta({ deprecated: true, description: 'Deprecated: use router.listen (router kind builtin)' }),
    /** Store, logs and the admin token live here; relative to the config file. */
    stateDir: z
      .string()
      .min(1)
      .default(DEFAULTS.stateDir)
      .describe('Store, logs and the admin token live here; relative to the config file'),
    admin: z
      .object({
        listen: listenAddress()
          .prefault(DEFAULTS.adminListen)
          .describe('Admin API, dashboard and /metrics, host:port; loopback unless allowRemote'),
        /** Bind beyond loopback only when this is true. */
        allowRemote: z.boolean().default(false).describe('Allow admin.listen beyond loopback'),
        /** HTTPS for the admin listener (the dashboard's cookie is then Secure); PEM files. */
        tls: z
          .object({
            cert: z.string().min(1).describe('PEM certificate (chain) file, relative to the config file'),
            key: z.string().min(1).describe('PEM private key file, relative to the config file'),
          })
          .strict()
          .optional()
          .describe('Serve the admin API and dashboard over HTTPS with these PEM files'),
      })
      .strict()
      .prefault({})
      .describe('The admin API (bearer token), dashboard and /metrics'),
    router: routerConfig
      .prefault({ kind: 'builtin' })
      .describe('What moves traffic between the blue and green slots'),
    platform: platformConfig.describe('Where the instances of each slot run'),
    health: healthCheck
      .prefault({})
      .describe('How instances are proved healthy: one of http (default), tcp or exec'),
    strategy: strategy
      .prefault({ kind: 'switch' })
      .describe('How traffic moves: switch (atomic) or shift (weighted steps)'),
    drain: z
      .object({
        timeout: duration()
          .default(DEFAULTS.drainTimeoutMs)
          .describe('In-flight requests and WebSockets on the old slot get this long to finish'),
      })
      .strict()
      .prefault({})
      .describe('Draining the old slot after a switch'),
    /** The old slot stays warm this long after promotion; rollback inside it is instant. */
    rollbackWindow: duration()
      .default(DEFAULTS.rollbackWindowMs)
      .describe('The old slot stays warm this long after promotion; rollback inside it is instant'),
    hooks: hooks.prefault({}).describe('Commands run at points of a deployment'),
    notifications: notificationsConfig,
    analysis: analysisConfig.optional(),
  })
  .strict();

export type CutoverConfigInput = z.input<typeof configSchema>;
/** What the schema reads, old keys included; loadConfig moves those (config/moved-keys.ts). */
export type SchemaOutput = z.output<typeof configSchema>;
/** A parsed config with every moved key in its new place. */
export type ParsedConfig = Omit<SchemaOutput, MovedTopLevelKey>;
export type { HealthCheckConfig } from './health-check.js';
export type StrategyConfig = ParsedConfig['strategy'];
export type HooksConfig = ParsedConfig['hooks'];
export type RouterConfig = ParsedConfig['router'];
export type PlatformConfig = ParsedConfig['platform'];

/** A loaded config: the parsed values plus where they came from (for relative paths and errors). */
export interface CutoverConfig extends ParsedConfig {
  /** Absolute path of the config file. */
  readonly file: string;
  /** Absolute directory of the config file; relative paths resolve against it. */
  readonly baseDir: string;
  /** Absolute state directory. */
  readonly stateDirPath: string;
  /** Old keys the file still uses (each loads as its new key); callers print them. */
  readonly deprecations: readonly ConfigDeprecation[];
}
