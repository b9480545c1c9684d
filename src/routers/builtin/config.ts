import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration, listenAddress } from '../../config/fields.js';

export const builtinRouterConfig = z
  .object({
    kind: z.literal('builtin'),
    /** Header that sends a request to the idle slot (only honoured on the preview listener or with the token). */
    previewHeader: z.string().min(1).default(DEFAULTS.previewHeader),
    /** A second listener that always reaches the idle slot, for smoke tests. */
    previewListen: listenAddress().optional(),
    clientIdleTimeout: duration().default(DEFAULTS.clientIdleTimeoutMs),
    headersTimeout: duration().default(DEFAULTS.headersTimeoutMs),
    upstreamConnectTimeout: duration().default(DEFAULTS.upstreamConnectTimeoutMs),
    upstreamResponseTimeout: duration().default(DEFAULTS.upstreamResponseTimeoutMs),
    /** Keep a client on one version during a weighted shift. */
    stickyCookie: z.string().min(1).default('cutover_slot'),
    /** PEM files: terminate TLS on the live listener and offer HTTP/2 (ALPN) beside HTTP/1.1. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    mirror: z
      .object({ percent: z.number().min(0).max(100) })
      .strict()
      .optional(),
  })
  .strict();

export type BuiltinRouterConfig = z.infer<typeof builtinRouterConfig>;
