import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration } from '../../config/fields.js';

export const nginxRouterConfig = z
  .object({
    kind: z.literal('nginx'),
    /** The nginx main config file (passed to `nginx -c`); nginx must include `includeFile`. */
    configFile: z.string().min(1),
    /** The file cutover owns: the app's upstreams and preview mapping. */
    includeFile: z.string().min(1),
    binary: z.string().min(1).default('nginx'),
    /** Upstream name prefix; the upstreams are `<prefix>_live` and `<prefix>_preview`. */
    upstream: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('cutover'),
    /** nginx's pid file; by default read from the `pid` directive of `configFile`. */
    pidFile: z.string().min(1).optional(),
    /** Where nginx serves the app; preview requests go here with `previewHeader`. */
    url: z.string().url().default('http://127.0.0.1:80'),
    /** A request carrying this header with exactly the app's preview token goes to the preview upstream. */
    previewHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .default(DEFAULTS.previewHeader),
    /** Idle keep-alive connections each nginx worker keeps to the upstreams. */
    upstreamKeepalive: z.number().int().min(0).default(32),
    /** How long a reload may take (new workers up, old ones no longer accepting). */
    reloadTimeout: duration().default(10_000),
  })
  .strict();
export type NginxRouterConfig = z.infer<typeof nginxRouterConfig>;
