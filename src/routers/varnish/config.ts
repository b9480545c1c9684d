import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration } from '../../config/fields.js';

export const varnishRouterConfig = z
  .object({
    kind: z.literal('varnish'),
    /** varnishd working directory (`-n`); also where varnishstat reads the counters. */
    workdir: z.string().min(1),
    /** Admin address (`-T`), e.g. 127.0.0.1:6082, and the secret file (`-S`). */
    adminAddress: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
    varnishadm: z.string().min(1).default('varnishadm'),
    varnishstat: z.string().min(1).default('varnishstat'),
    /** A request with this header set to exactly `<slot>:<preview token>` (`green:…`) goes to that slot. */
    previewHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .default(DEFAULTS.previewHeader),
    /** Where varnishd serves the app; by default read from varnishd (`debug.listen_address`). */
    url: z.string().url().optional(),
    /**
     * Where cutover writes the VCL files it loads (mode 0640 with this folder's group, which
     * varnishd's jail must read with: see docs/routers.md). Default: cutover-vcl in workdir.
     */
    vclDir: z.string().min(1).optional(),
    /**
     * The VCL file varnishd boots from (`-f`). cutover rewrites it after every switch, so a
     * restarted varnishd serves what was live, not what was live when it was installed.
     */
    bootVcl: z.string().min(1).optional(),
    /** Backend health probe in the generated VCL; a switch waits until it passes. */
    probe: z
      .object({
        path: z.string().startsWith('/').default(DEFAULTS.health.httpPath),
        interval: duration().default(1_000),
        timeout: duration().default(1_000),
        window: z.number().int().min(1).max(64).default(3),
        threshold: z.number().int().min(1).max(64).default(2),
      })
      .strict()
      .prefault({}),
    /** How long a switch waits for the slot's backends to pass the probe in the new VCL. */
    healthyTimeout: duration().default(30_000),
    /** How long one varnishadm command may take (a VCL compile takes a few hundred ms). */
    commandTimeout: duration().default(30_000),
  })
  .strict();
export type VarnishRouterConfig = z.infer<typeof varnishRouterConfig>;
