import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration } from '../../config/fields.js';

export const caddyRouterConfig = z
  .object({
    kind: z.literal('caddy'),
    /** Caddy admin API, e.g. http://127.0.0.1:2019 */
    adminUrl: z.string().url(),
    /** The HTTP server name in Caddy's JSON config that cutover manages. */
    server: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, dashes and underscores')
      .default('cutover'),
    /** Where the server listens (Caddy syntax, e.g. ":8080"); needed when cutover creates the server. */
    listen: z.string().min(1).optional(),
    /** Where live traffic reaches Caddy; by default http://<listen>. */
    url: z.string().url().optional(),
    /** A request with this header set to exactly `<slot>:<preview token>` (`green:…`) goes to that slot. */
    previewHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .default(DEFAULTS.previewHeader),
    /**
     * How a switch reaches Caddy. `file` (default): the live routes match on a marker file in
     * `switchDir` (Caddy's `file` matcher, checked on every request) and a switch creates and
     * removes marker files, so Caddy's config does not change, Caddy does not reload, and no
     * client connection is closed. `config`: a switch rewrites the live route through the admin
     * API; Caddy then reloads its HTTP app, which closes idle keep-alive client connections.
     * Use `config` when Caddy runs on another machine than cutover.
     */
    switchBy: z.enum(['file', 'config']).default('file'),
    /**
     * Where the marker files live (switchBy: file): a directory on Caddy's machine that cutover
     * can write and Caddy can read. Default: `caddy` in cutover's state directory.
     */
    switchDir: z.string().min(1).optional(),
    /** How long one admin API request may take (a config change reloads Caddy). */
    requestTimeout: duration().default(10_000),
    /** Times to re-read and re-apply when someone else changed the server between our read and write. */
    conflictRetries: z.number().int().min(0).max(20).default(3),
  })
  .strict();
export type CaddyRouterConfig = z.infer<typeof caddyRouterConfig>;
