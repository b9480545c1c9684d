/** Every default in one place, shared by the config loader, the CLI and the server. */
export const DEFAULTS = {
  stateDir: '.cutover',
  adminListen: '127.0.0.1:7070',
  listen: '127.0.0.1:8080',
  previewHeader: 'x-cutover-preview',
  instances: 1,
  stopGraceMs: 10_000,
  health: {
    intervalMs: 1_000,
    timeoutMs: 2_000,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    deadlineMs: 60_000,
    httpPath: '/healthz',
    expectStatus: 200,
  },
  drainTimeoutMs: 30_000,
  rollbackWindowMs: 15 * 60_000,
  /** How often analysis providers are asked during a shift step and the bake period. */
  analysisIntervalMs: 30_000,
  hookTimeoutMs: 5 * 60_000,
  hookKillGraceMs: 5_000,
  /** Longer than the 60 s idle timeout of common cloud load balancers, so they close first. */
  clientIdleTimeoutMs: 75_000,
  headersTimeoutMs: 20_000,
  upstreamConnectTimeoutMs: 5_000,
  upstreamResponseTimeoutMs: 60_000,
  lockLeaseMs: 30_000,
  lockRenewEveryMs: 10_000,
  /** Process platform: an instance's log file is rotated past this size … */
  processLogMaxBytes: 10 * 1024 * 1024,
  /** … and this many rotated files (`<log>.1` newest … `<log>.N`) are kept. */
  processLogKeep: 3,
  /**
   * The whole request body must arrive within this (408). A backstop for bodies that keep the
   * minimum rate forever, generous for uploads (nginx bounds body size instead; HAProxy's
   * `timeout http-request` covers the body only when it buffers it).
   */
  bodyTimeoutMs: 10 * 60_000,
  /** A body slower than this over a whole rate window (after the first) is refused (408); Apache's mod_reqtimeout uses MinRate=500. */
  bodyMinBytesPerSecond: 500,
  /** The body rate is measured per window; the first window is the grace (nginx allows 60 s between reads). */
  bodyRateWindowMs: 20_000,
  /** Client connections per builtin proxy listener; beyond, new ones are closed at accept. Above the bench's 10,000 idle clients. */
  maxClientConnections: 16_384,
  /** Methods mirroring copies by default: the safe ones, which change nothing on the idle slot. */
  mirrorMethods: ['GET', 'HEAD', 'OPTIONS'],
  /** Shadow comparison (router.mirror.compare): the header fields compared by default. */
  shadowCompareHeaders: ['content-type'],
  /** Body bytes of each answer compared as such; a longer body is compared by its SHA-256. */
  shadowMaxBodyBytes: 64 * 1024,
  /** Copies compared at once per proxy worker; a request sampled beyond that is not copied. */
  shadowMaxConcurrent: 64,
  /** A copy the idle slot has not answered within this is cut and counted as dropped. */
  shadowTimeoutMs: 5_000,
  /**
   * How long an eventually consistent router (a cloud load balancer, a target group, DNS) gets
   * to show a move before it fails (`router.settleTimeout` of the routers that converge).
   */
  routerSettleTimeoutMs: 5 * 60_000,
} as const;
