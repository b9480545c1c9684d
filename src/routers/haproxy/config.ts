import { z } from 'zod';

export const haproxyRouterConfig = z
  .object({
    kind: z.literal('haproxy'),
    /** Runtime API socket (`stats socket PATH level admin`). */
    socket: z.string().min(1),
    /**
     * Backend that holds both slots' servers, weighted, for shift steps. The per-slot backends
     * that an atomic switch points at are `<backend>_blue` and `<backend>_green`.
     */
    backend: z.string().min(1).default('cutover_live'),
    /** Backend for the preview route: only the preview slot's servers are ready in it. */
    previewBackend: z.string().min(1).default('cutover_preview'),
    /** Config file cutover owns and keeps in step with the runtime state (`haproxy -f main.cfg -f THIS`). */
    configFile: z.string().min(1).optional(),
    /** Where cutover dumps `show servers state` after each change (the `server-state-file` of main.cfg). */
    serverStateFile: z.string().min(1).optional(),
    /** Map file with the `live` key the frontend's `use_backend` reads; default: configFile with `.map`. */
    mapFile: z.string().min(1).optional(),
    /** The main config, so a candidate is checked in context (`haproxy -c -f main -f candidate`). */
    mainConfigFile: z.string().min(1).optional(),
    /** Where HAProxy serves the app; preview requests go here with `previewHeader`. Default http://127.0.0.1:80. */
    url: z.string().url().optional(),
    /**
     * Header that routes a request to the preview backend when it carries exactly the preview
     * token (the frontend's rule, docs/routers.md). Default x-cutover-preview.
     */
    previewHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .optional(),
    /**
     * Pattern file holding the preview token (one line, mode 0600), which the frontend's preview
     * rule reads: `use_backend <previewBackend> if { req.hdr(<previewHeader>) -m str -f <file> }`.
     * cutover writes it and keeps HAProxy's loaded copy in step. Default: configFile with
     * `-preview.acl` in place of `.cfg`.
     */
    previewTokenFile: z.string().min(1).optional(),
    /**
     * Server positions per slot declared in configFile (re-pointed at runtime with `set server
     * addr`). More instances than this still work, through `add server`, but HAProxy 2.6 does
     * not reuse connections to those until the next reload. Default 8.
     */
    maxInstancesPerSlot: z.number().int().min(1).max(1000).optional(),
    /** HAProxy binary for config checks. Default haproxy. */
    binary: z.string().min(1).optional(),
  })
  .strict();
export type HaproxyRouterConfig = z.infer<typeof haproxyRouterConfig>;
