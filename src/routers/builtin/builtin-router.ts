/**
 * The builtin Router: cutover's own proxy (src/proxy) is the data plane, so every move is
 * applied in memory, synchronously, and verify() reads back the table requests are routed by.
 *
 * The router remembers what it was asked (targets, weights, preview slot) apart from the
 * proxy, the way nginx keeps its config on disk: close() releases the listeners and sockets,
 * a later open() binds the same ports again and serves the last applied state.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Slot, SlotTargets, Weights } from '../../shared/slot.js';
import { ProxyMetrics } from '../../proxy/metrics.js';
import { MIRROR_OFF } from '../../proxy/mirror.js';
import { ProxyServer, type ListenerRole } from '../../proxy/proxy-server.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import { BUILTIN_CAPABILITIES } from './capabilities.js';
import type { BuiltinRouterConfig } from './config.js';

export interface BuiltinRouterDeps {
  readonly logger: Logger;
  /** Secret for the preview header; a random one is made when absent. */
  readonly previewToken?: string;
}

export interface BuiltinRouterAddresses {
  readonly live: AddressInfo;
  readonly preview: AddressInfo | undefined;
}

export interface BuiltinOpenOptions {
  /**
   * false: build the proxy and take applied state, but bind no listener yet (the control server
   * restores the routing table first, so no client is answered from an empty one). A later
   * open() binds them. Default true.
   */
  readonly listen?: boolean;
}

export interface BuiltinRouter extends Router {
  open(options?: BuiltinOpenOptions): Promise<void>;
  /** The bound listeners (after open()); port 0 in the config becomes the real port here. */
  address(): BuiltinRouterAddresses;
  /** Per-slot counters and an observer hook for the server's /metrics; live across close/open. */
  readonly metrics: ProxyMetrics;
  /** The value the preview header must carry. */
  readonly previewToken: string;
}

const DESCRIPTION: RouterDescription = { kind: 'builtin', capabilities: BUILTIN_CAPABILITIES };

/** What the router was asked, re-applied to a proxy that is opened again. */
interface AppliedState {
  targets: SlotTargets | undefined;
  weights: Weights | undefined;
  previewSlot: Slot | undefined;
}

export function createBuiltinRouter(config: BuiltinRouterConfig, deps: BuiltinRouterDeps): BuiltinRouter {
  const logger = deps.logger.child({ router: 'builtin' });
  const previewToken = deps.previewToken ?? randomBytes(24).toString('base64url');
  const metrics = new ProxyMetrics();
  const applied: AppliedState = { targets: undefined, weights: undefined, previewSlot: undefined };
  /** Ports bound the first time (port 0 becomes a real one), so a reopen serves the same URLs. */
  const boundPorts: Partial<Record<ListenerRole, number>> = {};
  let proxy: ProxyServer | undefined;
  let opening: Promise<void> | undefined;

  const build = (): ProxyServer =>
    new ProxyServer({
      previewHeader: config.previewHeader,
      previewToken,
      stickyCookie: config.stickyCookie,
      timeouts: {
        clientIdleMs: config.clientIdleTimeout,
        headersMs: config.headersTimeout,
        upstreamConnectMs: config.upstreamConnectTimeout,
        upstreamResponseMs: config.upstreamResponseTimeout,
        bodyMs: config.bodyTimeout,
        bodyMinBytesPerSecond: config.bodyMinRate,
        bodyRateWindowMs: config.bodyRateWindow,
      },
      mirror: config.mirror ?? MIRROR_OFF,
      maxConnections: config.maxConnections,
      requestBufferBytes: config.requestBuffering?.maxBodyBytes ?? 0,
      tls: config.tls
        ? { cert: readTlsFile(config.tls.cert, 'cert'), key: readTlsFile(config.tls.key, 'key') }
        : undefined,
      logger,
      metrics,
    });

  const current = (): ProxyServer => {
    if (proxy === undefined) {
      throw new CutoverError('CUTOVER_E_ROUTER', 'the builtin proxy is not running; open() the router first');
    }
    return proxy;
  };

  const bind = async (server: ProxyServer, role: ListenerRole, host: string, port: number, key: string) => {
    try {
      const address = await server.listen(role, host, boundPorts[role] ?? port);
      boundPorts[role] = address.port;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new CutoverError(
          'CUTOVER_E_PORT_IN_USE',
          `port ${host}:${port} is already in use (${key} in cutover.yml)`,
          { cause: error, details: { host, port, key } },
        );
      }
      throw new CutoverError('CUTOVER_E_ROUTER', `cannot listen on ${host}:${port} (${key} in cutover.yml)`, {
        cause: error,
      });
    }
  };

  const listenAll = async (server: ProxyServer): Promise<void> => {
    try {
      await bind(server, 'live', config.listen.host, config.listen.port, 'router.listen');
      if (config.previewListen) {
        const { host, port } = config.previewListen;
        await bind(server, 'preview', host, port, 'router.previewListen');
      }
    } catch (error) {
      if (proxy === server) proxy = undefined;
      await server.close(0);
      throw error;
    }
    logger.info('router.opened', { live: server.address('live'), preview: server.address('preview') });
  };

  const openOnce = async (listen: boolean): Promise<void> => {
    if (proxy === undefined) {
      const server = build();
      if (applied.targets) server.setTargets(applied.targets);
      if (applied.weights) server.setWeights(applied.weights);
      if (applied.previewSlot) server.setPreviewSlot(applied.previewSlot);
      proxy = server;
    }
    if (listen && proxy.address('live') === undefined) await listenAll(proxy);
  };

  const previewRoute = (slot: Slot): PreviewRoute => {
    const server = current();
    server.setPreviewSlot(slot);
    applied.previewSlot = slot;
    const tls = config.tls !== undefined;
    const previewAddress = server.address('preview');
    if (previewAddress !== undefined) return { slot, url: urlOf(previewAddress, tls), headers: {} };
    return {
      slot,
      url: urlOf(router.address().live, tls),
      headers: { [config.previewHeader]: previewToken },
    };
  };

  const router: BuiltinRouter = {
    previewToken,
    metrics,

    describe: () => DESCRIPTION,

    async open(options: BuiltinOpenOptions = {}) {
      const listen = options.listen ?? true;
      await opening?.catch(() => undefined);
      if (proxy !== undefined && (!listen || proxy.address('live') !== undefined)) return;
      opening ??= openOnce(listen).finally(() => {
        opening = undefined;
      });
      await opening;
    },

    address() {
      const server = current();
      const live = server.address('live');
      if (live === undefined) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          'the builtin proxy is not listening; open() the router first',
        );
      }
      return { live, preview: server.address('preview') };
    },

    prepare: (targets: SlotTargets) =>
      settle(() => {
        current().setTargets(targets);
        applied.targets = targets;
      }),

    preview: (slot: Slot) => settle(() => previewRoute(slot)),

    setWeights: (weights: Weights) =>
      settle(() => {
        current().setWeights(weights);
        applied.weights = { blue: weights.blue, green: weights.green };
        logger.info('router.weights_set', { weights });
      }),

    verify: () =>
      settle((): RouterObservation => {
        const table = current().liveTable();
        if (table.weights === undefined) {
          return {
            kind: 'unverifiable',
            reason: 'the proxy has no weights yet (setWeights was never called)',
          };
        }
        return { kind: 'observed', weights: table.weights, targets: table.targets };
      }),

    drain: (slot: Slot, options: DrainOptions) =>
      settle(() => {
        current().drain(slot, options.deadline);
      }),

    /** inFlight: HTTP requests plus WebSockets still open on the slot; connections: the WebSockets. */
    drainStatus: (slot: Slot) =>
      settle((): DrainStatus => {
        const status = current().drainStatus(slot);
        return {
          kind: 'counted',
          inFlight: status.inFlight + status.webSockets,
          connections: status.webSockets,
        };
      }),

    cleanup: (slot: Slot) =>
      settle(() => {
        current().cleanup(slot);
        if (applied.targets) applied.targets = { ...applied.targets, [slot]: [] };
        if (applied.previewSlot === slot) applied.previewSlot = undefined;
      }),

    async close() {
      await opening?.catch(() => undefined);
      const server = proxy;
      if (server === undefined) return;
      proxy = undefined;
      await server.close();
      logger.info('router.closed');
    },
  };
  return router;
}

/** Runs a synchronous step and reports its outcome as a promise (the Router interface is async). */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function urlOf(address: AddressInfo, tls: boolean): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_E_CONFIG',
      `cannot read the TLS ${what} file ${path} (router.tls.${what} in cutover.yml)`,
      { cause: error },
    );
  }
}
