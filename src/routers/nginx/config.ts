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
    /**
     * The prefix nginx runs with (`nginx -p`), against which nginx resolves relative paths
     * (logs, temp dirs, `pid`). cutover passes it to `nginx -t` and resolves a relative `pid`
     * against it. Default: the `-p` of the running master's command line, if it has one.
     */
    prefix: z.string().min(1).optional(),
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
    /**
     * `reload`: every change rewrites the include file and reloads nginx (any nginx).
     * `lua`: the routing table lives in nginx's shared memory and changes through a local
     * control location, with no reload (needs libnginx-mod-http-lua; docs/routers.md).
     */
    mode: z.enum(['reload', 'lua']).default('reload'),
    /** lua mode: where nginx serves the control location, `127.0.0.1:PORT`, `[::1]:PORT` or `unix:/path`. */
    controlListen: z
      .string()
      .refine(isLocalListen, {
        message: 'must be a loopback address with a port (127.0.0.1:PORT, [::1]:PORT) or unix:/absolute/path',
      })
      .optional(),
    /** lua mode: the control token (created 0600 at open() when missing); default `<includeFile>.token`. */
    controlTokenFile: z.string().min(1).optional(),
    /** lua mode: the last applied routing table, which nginx loads on start; default `<includeFile>.state`. */
    stateFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.mode === 'lua' && config.controlListen === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['controlListen'],
        message: 'mode lua needs controlListen (e.g. 127.0.0.1:9180 or unix:/run/cutover-nginx.sock)',
      });
    }
    if (config.mode === 'reload') {
      for (const key of ['controlListen', 'controlTokenFile', 'stateFile'] as const) {
        if (config[key] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: `${key} is only used with mode: lua` });
        }
      }
    }
  });
/** A loopback `host:port` or a unix socket: the control location must never face the network. */
function isLocalListen(value: string): boolean {
  if (value.startsWith('unix:/')) return value.length > 'unix:/'.length;
  const match = /^(127(?:\.\d{1,3}){3}|\[::1\]|localhost):(\d{1,5})$/.exec(value);
  if (match === null) return false;
  const port = Number(match[2]);
  return port >= 1 && port <= 65_535;
}

export type NginxRouterConfig = z.infer<typeof nginxRouterConfig>;
