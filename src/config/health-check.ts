import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { command, duration } from './fields.js';

/**
 * The `health:` section. Its own file because platforms get the parsed health check (docker runs
 * it while a container starts) and the `platform:` schema is assembled from their descriptors.
 */
export const healthCheck = z
  .object({
    http: z
      .object({
        path: z.string().startsWith('/').default(DEFAULTS.health.httpPath),
        expectStatus: z.number().int().min(100).max(599).default(DEFAULTS.health.expectStatus),
        headers: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .optional(),
    tcp: z.object({}).strict().optional(),
    /** A command run with TARGET_HOST and TARGET_PORT set; exit 0 means healthy. */
    exec: z
      .object({ command: command() })
      .strict()
      .optional()
      .describe('Run a command with TARGET_HOST and TARGET_PORT set; exit 0 means healthy'),
    interval: duration().default(DEFAULTS.health.intervalMs).describe('Time between probes of each instance'),
    timeout: duration().default(DEFAULTS.health.timeoutMs).describe('A probe slower than this fails'),
    healthyThreshold: z
      .number()
      .int()
      .min(1)
      .default(DEFAULTS.health.healthyThreshold)
      .describe('Consecutive passes before an instance counts as healthy'),
    unhealthyThreshold: z
      .number()
      .int()
      .min(1)
      .default(DEFAULTS.health.unhealthyThreshold)
      .describe('Consecutive failures before an instance counts as unhealthy'),
    /** How long new instances have to become healthy before the deploy fails. */
    deadline: duration()
      .default(DEFAULTS.health.deadlineMs)
      .describe('How long new instances have to become healthy before the deploy fails'),
  })
  .strict()
  .superRefine((value, ctx) => {
    const kinds = [value.http, value.tcp, value.exec].filter((kind) => kind !== undefined).length;
    if (kinds > 1) ctx.addIssue({ code: 'custom', message: 'choose one of http, tcp or exec' });
  })
  .transform((value) =>
    value.http || value.tcp || value.exec
      ? value
      : {
          ...value,
          http: { path: DEFAULTS.health.httpPath, expectStatus: DEFAULTS.health.expectStatus, headers: {} },
        },
  );

export type HealthCheckConfig = z.output<typeof healthCheck>;
