import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration, listenAddress } from '../../config/fields.js';
import { JsonPathError, parseJsonPath } from '../../proxy/shadow/json-path.js';

/** Methods that change nothing on the server (RFC 9110 §9.2.1): a mirrored copy of them is harmless. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(HEADER_NAME, 'a header field name, e.g. content-type');

const jsonPath = z.string().superRefine((text, ctx) => {
  try {
    parseJsonPath(text);
  } catch (error) {
    if (!(error instanceof JsonPathError)) throw error;
    ctx.addIssue({ code: 'custom', message: `not a path cutover reads: ${error.message}` });
  }
});

/** Shadow comparison of the mirrored copies' answers with the live ones (proxy/shadow/). */
const compareConfig = z
  .object({
    headers: z
      .array(headerName)
      .max(50)
      .default([...DEFAULTS.shadowCompareHeaders])
      .describe('Response header fields compared by value (default content-type)'),
    ignore: z
      .array(jsonPath)
      .max(100)
      .default([])
      .describe('JSON paths left out of the body comparison, e.g. $.timestamp, $.items[*].id'),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .default(DEFAULTS.shadowMaxBodyBytes)
      .describe(
        'Body bytes compared as such (default 65536); a longer body is compared by its SHA-256 alone',
      ),
    maxConcurrent: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(DEFAULTS.shadowMaxConcurrent)
      .describe(
        'Copies compared at once per proxy worker; a request sampled beyond that is not copied (counted as dropped)',
      ),
    timeout: duration()
      .default(DEFAULTS.shadowTimeoutMs)
      .describe('A copy not answered within this is cut and counted as dropped (default 5s)'),
    secretHeaders: z
      .array(headerName)
      .default([])
      .describe(
        'Compared header fields whose values samples never show (cookies and Authorization never are)',
      ),
    secretQueryParams: z
      .array(z.string().min(1))
      .default([])
      .describe('Query parameters whose values samples never show, beside token, key, password, signature …'),
  })
  .strict();

const mirrorConfig = z
  .object({
    percent: z.number().min(0).max(100).describe('Share (0-100) of live requests copied to the idle slot'),
    methods: z
      .array(z.string().regex(/^[A-Z]+$/, 'an HTTP method in capitals, e.g. GET'))
      .min(1)
      .default([...DEFAULTS.mirrorMethods])
      .describe(
        'Methods copied to the idle slot (default GET, HEAD, OPTIONS). Others (POST, DELETE …) need unsafeMethodsDuplicateWrites',
      ),
    unsafeMethodsDuplicateWrites: z
      .boolean()
      .default(false)
      .describe(
        'Allow unsafe methods (POST, PUT, PATCH, DELETE …) in methods: each such request then runs twice, once on each slot, usually against the same database',
      ),
    compare: compareConfig
      .optional()
      .describe(
        'Compare the copies’ answers with the live ones (GET, HEAD, OPTIONS only): status, header fields, body; the difference rate is what analysis.shadow judges',
      ),
  })
  .strict()
  .superRefine((mirror, ctx) => {
    if (mirror.unsafeMethodsDuplicateWrites) return;
    mirror.methods.forEach((method, index) => {
      if (SAFE_METHODS.has(method)) return;
      ctx.addIssue({
        code: 'custom',
        path: ['methods', index],
        message:
          `mirroring ${method} would run every such request twice (the idle slot usually shares the live ` +
          'database); list only GET, HEAD, OPTIONS or TRACE, or set mirror.unsafeMethodsDuplicateWrites: true',
      });
    });
  });

export const builtinRouterConfig = z
  .object({
    kind: z.literal('builtin'),
    /** Where live traffic arrives. Was the top-level `listen` (still read, deprecated: config/moved-keys.ts). */
    listen: listenAddress().prefault(DEFAULTS.listen).describe('Where live traffic arrives, host:port'),
    workers: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'Proxy worker processes that serve the traffic (default: one per core); 1 is still a process of its own, apart from the control plane',
      ),
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
    mirror: mirrorConfig
      .optional()
      .describe('Copy a share of live requests to the idle slot, answers discarded'),
    bodyTimeout: duration()
      .default(DEFAULTS.bodyTimeoutMs)
      .describe(
        'The whole request body must arrive within this after its head (else 408 and the connection closes)',
      ),
    bodyMinRate: z
      .number()
      .int()
      .min(0)
      .default(DEFAULTS.bodyMinBytesPerSecond)
      .describe(
        'Bytes per second a request body must average over each bodyRateWindow after the first (else 408); 0 turns the check off',
      ),
    bodyRateWindow: duration()
      .refine((ms) => ms >= 1_000, 'at least 1s')
      .default(DEFAULTS.bodyRateWindowMs)
      .describe('The window bodyMinRate is measured over; the first window after the head is a grace'),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(DEFAULTS.maxClientConnections)
      .describe(
        'Open client connections per listener in each worker process; further ones are closed at accept and counted in /metrics',
      ),
    requestBuffering: z
      .object({
        maxBodyBytes: z
          .number()
          .int()
          .min(1)
          .describe('Bodies up to this many bytes are read whole before an upstream connection is taken'),
      })
      .strict()
      .optional()
      .describe(
        'Read small request bodies whole before forwarding, so slow clients do not hold app connections',
      ),
  })
  .strict();

export type BuiltinRouterConfig = z.infer<typeof builtinRouterConfig>;
