import { CutoverError } from '../shared/errors.js';
import { DEFAULTS } from './defaults.js';

export interface InitTemplateOptions {
  /** Name of the app: lowercase letters, digits and dashes. */
  readonly app: string;
  /** Where editors find the JSON Schema; the default works once cutover is installed in node_modules. */
  readonly schemaPath?: string;
}

export const DEFAULT_SCHEMA_PATH = './node_modules/cutover/schema/cutover.schema.json';
const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A valid app name from a folder or package name: "My_Web App" → "my-web-app". */
export function toAppName(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return slug === '' ? 'app' : slug;
}

/** A duration as config accepts it (core's formatDuration is for display: "1m15s" does not parse). */
function configDuration(ms: number): string {
  const units = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const;
  const unit = units.find(([, size]) => ms >= size && ms % size === 0);
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
}

/**
 * The `cutover.yml` that `cutover init` writes: every section explained in comments, the
 * defaults written out, and valid as it stands (a test loads it with loadConfig).
 */
export function initTemplate({ app, schemaPath = DEFAULT_SCHEMA_PATH }: InitTemplateOptions): string {
  if (!APP_NAME.test(app)) {
    throw new CutoverError(
      'CUTOVER_E_USAGE',
      `"${app}" is not a valid app name; use lowercase letters, digits and dashes, e.g. "${toAppName(app)}"`,
    );
  }
  const d = configDuration;
  return `# yaml-language-server: $schema=${schemaPath}
#
# cutover: zero-downtime blue-green deployments for ${app}.
# Two identical slots, blue and green: one is live, the other idle. A deploy starts the new
# release in the idle slot, proves it healthy, moves the traffic, drains the old slot and
# keeps it warm so that a rollback is instant.
#
# Durations are a number with ms, s, m or h ("250ms", "30s", "15m", "1h") or a number of ms.
# When something here is wrong, cutover names the line, the key and what would be valid.

# Name of the app (lowercase letters, digits and dashes). One deployment per app at a time.
app: ${app}

# Store, logs and the admin token live here; relative to this file.
stateDir: ${DEFAULTS.stateDir}

# The admin API (bearer token in <stateDir>), the dashboard and /metrics.
admin:
  listen: ${DEFAULTS.adminListen}
  # The admin API moves production traffic: it stays on loopback unless you set this to true.
  allowRemote: false

# What moves traffic between the slots. kind is one of:
#   builtin  cutover's own proxy (default): atomic switch, weighted shift, preview by header or port
#   nginx    writes an include file of upstreams and reloads nginx; needs configFile, includeFile
#            (mode: lua changes traffic without reloads; needs libnginx-mod-http-lua, see below)
#   haproxy  changes server weights over the runtime API; needs socket
#   varnish  loads and switches VCL with varnishadm; needs workdir
#   caddy    patches routes over Caddy's admin API; needs adminUrl (no weights: switch only)
router:
  kind: builtin
  # Where live traffic arrives. "host:port"; ":8080" means 127.0.0.1.
  listen: ${DEFAULTS.listen}
  # Requests with this header set to the app's preview token (the preview-token file in the
  # state directory; the smoke hook gets it in PREVIEW_HEADER) reach the idle slot; any other
  # value, or none, goes live.
  previewHeader: ${DEFAULTS.previewHeader}
  # A second listener that always reaches the idle slot:
  # previewListen: 127.0.0.1:8081
  clientIdleTimeout: ${d(DEFAULTS.clientIdleTimeoutMs)}
  upstreamConnectTimeout: ${d(DEFAULTS.upstreamConnectTimeoutMs)}
  upstreamResponseTimeout: ${d(DEFAULTS.upstreamResponseTimeoutMs)}
  # A request body must arrive whole within bodyTimeout, and at bodyMinRate bytes/s or more over
  # each bodyRateWindow after the first (a grace); else 408 and the connection closes.
  bodyTimeout: ${d(DEFAULTS.bodyTimeoutMs)}
  bodyMinRate: ${DEFAULTS.bodyMinBytesPerSecond}
  bodyRateWindow: ${d(DEFAULTS.bodyRateWindowMs)}
  # Open client connections per listener; further ones are closed at accept (counted in /metrics).
  maxConnections: ${DEFAULTS.maxClientConnections}
  # Read request bodies up to this size whole before forwarding, so slow uploads hold no app connection:
  # requestBuffering:
  #   maxBodyBytes: 65536
  # Copy a share of live requests to the idle slot (answers discarded). Only safe methods by default;
  # unsafe ones (POST, DELETE …) would run twice against a shared database and need
  # unsafeMethodsDuplicateWrites: true.
  # mirror:
  #   percent: 10
  #   methods: [${DEFAULTS.mirrorMethods.join(', ')}]
# For example, nginx instead:
# router:
#   kind: nginx
#   configFile: /etc/nginx/nginx.conf
#   includeFile: /etc/nginx/conf.d/${app}-cutover.conf
#   # reload (default): every change rewrites includeFile and reloads nginx (any nginx).
#   # lua: the routing table lives in nginx's shared memory, changed without a reload through
#   # a loopback control location; nginx.conf must load ndk_http_module and ngx_http_lua_module.
#   mode: reload
#   # controlListen: 127.0.0.1:9180     # lua mode: where nginx serves the control location
#   # controlTokenFile, stateFile: default <includeFile>.token / <includeFile>.state (0600)

# Where each slot's instances run. kind "process": local processes started by cutover.
# These placeholders work in args, env and cwd:
#   \${PORT}      a free port chosen for this instance (the app must listen on it)
#   \${RELEASE}   the release being deployed (\`cutover deploy <release>\`)
#   \${SLOT}      blue or green
#   \${INSTANCE}  the instance number in the slot, from 0
#   \${HOST}      the host the instance binds to
platform:
  kind: process
  command: node
  args: ["server.js", "--port", "\${PORT}"]
  # Each release in its own folder, relative to this file.
  cwd: releases/\${RELEASE}
  env:
    NODE_ENV: production
    SLOT: \${SLOT}
    INSTANCE: \${INSTANCE}
  instances: ${DEFAULTS.instances}
  host: 127.0.0.1
  # After SIGTERM, an instance has this long to exit before SIGKILL (every platform has stopGrace).
  stopGrace: ${d(DEFAULTS.stopGraceMs)}
  # Each instance's output goes to <stateDir>/logs/<slot>-<n>.log. Past maxBytes (checked every
  # second) it is copied to .1 and emptied; .1 (newest) … .<keep> are kept.
  logs:
    maxBytes: ${DEFAULTS.processLogMaxBytes}
    keep: ${DEFAULTS.processLogKeep}

# Or containers, through the Docker Engine API (Docker, or podman's Docker API service;
# DOCKER_HOST or socket says where). Each container is named ${app}-<slot>-<index> and its
# port is published on 127.0.0.1 only. See docs/docker.md for every key.
# platform:
#   kind: docker
#   image: registry.example/${app}:\${RELEASE}   # or build: { context: ., dockerfile: Dockerfile }
#   port: 3000                                  # the port the app listens on inside the container
#   pull: missing                               # never | missing | always
#   env: { NODE_ENV: production }
#   instances: ${DEFAULTS.instances}
#   stopGrace: ${d(DEFAULTS.stopGraceMs)}
#   keepImages: 3                               # images of this many releases kept for rollbacks

# How new instances are proved healthy before they get traffic: one of http, tcp or exec.
health:
  http:
    path: ${DEFAULTS.health.httpPath}
    expectStatus: ${DEFAULTS.health.expectStatus}
  # tcp: {}                               # healthy when the port accepts a connection
  # exec: { command: ./check.sh }         # TARGET_HOST and TARGET_PORT set; exit 0 means healthy
  interval: ${d(DEFAULTS.health.intervalMs)}
  timeout: ${d(DEFAULTS.health.timeoutMs)}
  healthyThreshold: ${DEFAULTS.health.healthyThreshold}
  unhealthyThreshold: ${DEFAULTS.health.unhealthyThreshold}
  # The deploy fails (and traffic stays where it is) if instances are not healthy by then.
  deadline: ${d(DEFAULTS.health.deadlineMs)}

# How traffic moves.
#   switch  all at once: never both versions at the same time (works with every router)
#   shift   weighted steps, each with a pause or a manual gate (not with caddy)
# promotion: manual stops before the move until \`cutover promote\`.
strategy:
  kind: switch
  promotion: auto
# For example:
# strategy:
#   kind: shift
#   steps:
#     - { weight: 10, pause: 5m }
#     - { weight: 50, gate: manual }
#     - { weight: 100 }

# After the move, requests in flight on the old slot (and WebSockets) get this long to finish.
drain:
  timeout: ${d(DEFAULTS.drainTimeoutMs)}

# The old slot stays warm this long after promotion; \`cutover rollback\` inside it is instant.
rollbackWindow: ${d(DEFAULTS.rollbackWindowMs)}

# Commands run during a deployment: a string (run by /bin/sh) or a list (run directly).
hooks:
  # beforeProvision: npm run migrate
  # Smoke test of the idle slot through the preview route, with every router: PREVIEW_URL and
  # PREVIEW_HEADER ("Name: value", holding the preview token) are set; PREVIEW_CURL_ARGS too.
  # smoke: curl -fsS -H "$PREVIEW_HEADER" "$PREVIEW_URL/healthz"
  # afterPromote: ./notify.sh promoted
  # afterRollback: ./notify.sh rolled-back
  timeout: ${d(DEFAULTS.hookTimeoutMs)}
  # A hook stopped at its timeout or by an abort gets SIGTERM (a migration can roll back), then
  # SIGKILL this long after, with everything it started.
  killGrace: ${d(DEFAULTS.hookKillGraceMs)}
`;
}
