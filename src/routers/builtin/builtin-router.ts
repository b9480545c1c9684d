/**
 * The builtin Router: cutover's own proxy (src/proxy) is the data plane, run in
 * `router.workers` worker processes (worker/worker-pool.ts) that share the listening sockets.
 * Every move is pushed to every worker as a whole routing table with a generation number and
 * resolves when each worker has acknowledged it; verify() reads each worker's table back and
 * reports a mismatch if any worker disagrees with what was asked.
 *
 * The router remembers what it was asked (targets, weights, preview slot) apart from the
 * workers, the way nginx keeps its config on disk: close() retires the workers and releases
 * the sockets, a later open() starts new workers, binds the same ports and serves the last
 * applied state.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import { CutoverError } from '../../shared/errors.js';
import { FreshRounds } from '../../shared/fresh-rounds.js';
import type { Logger } from '../../shared/logger.js';
import type { Slot } from '../../shared/slot.js';
import { ProxyMetrics } from '../../proxy/metrics.js';
import { ShadowLedger } from './shadow-ledger.js';
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
import { sameTable, tableOf, type AppliedState } from './routing-table.js';
import type { WorkerCountsReport } from './worker/protocol.js';
import { WorkerPool, type ListenAddress } from './worker/worker-pool.js';

export interface BuiltinRouterDeps {
  readonly logger: Logger;
  /** Secret for the preview header; a random one is made when absent. */
  readonly previewToken?: string;
  /** The app's state directory: the workers' control sockets live under it. A temp dir when absent. */
  readonly stateDir?: string;
  /**
   * Start new workers even where running ones of the same code could be adopted, and retire
   * those (cutover server --upgrade). Workers of other code are always handed over from.
   */
  readonly takeOverWorkers?: boolean;
  /** Each worker's own reports, for per-worker series on /metrics. */
  readonly onWorkerMetrics?: (pid: number, event: WorkerCountsReport) => void;
}

export interface BuiltinRouterAddresses {
  readonly live: AddressInfo;
  readonly preview: AddressInfo | undefined;
}

export interface BuiltinOpenOptions {
  /**
   * false: start the workers and give them the applied state, but bind no listener yet (the
   * control server restores the routing table first, so no client is answered from an empty
   * one). A later open() binds them. Default true.
   */
  readonly listen?: boolean;
}

export interface BuiltinRouter extends Router {
  open(options?: BuiltinOpenOptions): Promise<void>;
  /** The bound listeners (after open()); port 0 in the config becomes the real port here. */
  address(): BuiltinRouterAddresses;
  /** Per-slot counters summed over the workers' reports; live across close/open. */
  readonly metrics: ProxyMetrics;
  /**
   * Has every worker report now, so `metrics` holds what was answered until this call (workers
   * report on their own only once a second). Callers during a round share the next one, never one
   * that began before their call.
   */
  refreshMetrics(): Promise<void>;
  /** Shadow comparison counts and samples summed over the workers; live across close/open. */
  readonly shadow: ShadowLedger;
  /** The value the preview header must carry. */
  readonly previewToken: string;
  /** Pids of the proxy workers now running (empty while closed). */
  workerPids(): number[];
  /**
   * Lets go of the workers and leaves them serving the last table, for a successor control
   * plane to adopt (close() would retire them).
   */
  detach(): Promise<void>;
}

const DESCRIPTION: RouterDescription = { kind: 'builtin', capabilities: BUILTIN_CAPABILITIES };

/** `router.workers` when the config leaves it out: one per core. */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

export function createBuiltinRouter(config: BuiltinRouterConfig, deps: BuiltinRouterDeps): BuiltinRouter {
  const logger = deps.logger.child({ router: 'builtin' });
  const previewToken = deps.previewToken ?? randomBytes(24).toString('base64url');
  const metrics = new ProxyMetrics();
  const shadow = new ShadowLedger();
  const applied: AppliedState = { targets: undefined, weights: undefined, previewSlot: undefined };
  /** Ports bound the first time (port 0 becomes a real one), so a reopen serves the same URLs. */
  const boundPorts: Partial<Record<'live' | 'preview', number>> = {};
  const workers = config.workers ?? defaultWorkerCount();
  let pool: WorkerPool | undefined;
  let opening: Promise<void> | undefined;

  const current = (): WorkerPool => {
    if (pool === undefined) {
      throw new CutoverError('CUTOVER_E_ROUTER', 'the builtin proxy is not running; open() the router first');
    }
    return pool;
  };

  const addresses = (): ListenAddress[] => {
    const wanted: ListenAddress[] = [
      {
        role: 'live',
        host: config.listen.host,
        port: boundPorts.live ?? config.listen.port,
        key: 'router.listen',
      },
    ];
    if (config.previewListen) {
      const { host, port } = config.previewListen;
      wanted.push({ role: 'preview', host, port: boundPorts.preview ?? port, key: 'router.previewListen' });
    }
    return wanted;
  };

  const openOnce = async (listen: boolean): Promise<void> => {
    if (pool === undefined) {
      const created = new WorkerPool(workers, {
        config,
        previewToken,
        stateDir: deps.stateDir,
        takeOver: deps.takeOverWorkers,
        logger,
        metrics,
        onWorkerMetrics: deps.onWorkerMetrics,
        shadow,
      });
      try {
        await created.start();
        const adopted = created.adoptedTable();
        if (adopted !== undefined && applied.targets === undefined && applied.weights === undefined) {
          // Workers a previous control plane left running: what they serve is the applied
          // state until the engine reconciles it with the store.
          applied.targets = adopted.targets;
          applied.weights = adopted.weights;
          applied.previewSlot = adopted.previewSlot;
          logger.info('router.workers_adopted', { workers: created.pids(), weights: adopted.weights });
        } else {
          await created.apply(tableOf(applied));
        }
      } catch (error) {
        await created.close(0);
        throw error;
      }
      pool = created;
    }
    if (!listen || pool.listening) return;
    const opened = pool;
    try {
      await opened.listen(addresses());
    } catch (error) {
      if (pool === opened) pool = undefined;
      await opened.close(0);
      throw error;
    }
    boundPorts.live = opened.address('live')?.port;
    if (config.previewListen) boundPorts.preview = opened.address('preview')?.port;
    logger.info('router.opened', {
      live: opened.address('live'),
      preview: opened.address('preview'),
      workers: opened.pids(),
    });
  };

  /** Records the change and pushes the whole table; resolves once every worker holds it. */
  const apply = async (change: (state: AppliedState) => void): Promise<{ windowMs: number }> => {
    const workerPool = current();
    change(applied);
    return workerPool.apply(tableOf(applied));
  };

  const previewRoute = (slot: Slot): PreviewRoute => {
    const tls = config.tls !== undefined;
    const previewAddress = current().address('preview');
    if (previewAddress !== undefined) return { slot, url: urlOf(previewAddress, tls), headers: {} };
    return {
      slot,
      url: urlOf(router.address().live, tls),
      headers: { [config.previewHeader]: previewToken },
    };
  };

  // A read after a request was answered must count it: readers share rounds that began after them.
  // A worker that does not answer leaves the sums as it last reported (its replacement is on the
  // way): a read never fails for it.
  const reports = new FreshRounds(() =>
    (pool?.reportNow() ?? Promise.resolve()).catch((error: unknown) =>
      logger.warn('router.report_failed', { error }),
    ),
  );

  const router: BuiltinRouter = {
    previewToken,
    metrics,
    shadow,

    refreshMetrics() {
      // Closed: nothing is answered, the sums are what they are.
      return reports.next();
    },

    describe: () => DESCRIPTION,

    async open(options: BuiltinOpenOptions = {}) {
      const listen = options.listen ?? true;
      await opening?.catch(() => undefined);
      if (pool !== undefined && (!listen || pool.listening)) return;
      opening ??= openOnce(listen).finally(() => {
        opening = undefined;
      });
      await opening;
    },

    address() {
      const live = current().address('live');
      if (live === undefined) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          'the builtin proxy is not listening; open() the router first',
        );
      }
      return { live, preview: current().address('preview') };
    },

    workerPids: () => pool?.pids() ?? [],

    async prepare(targets) {
      await apply((state) => {
        state.targets = targets;
      });
    },

    async preview(slot: Slot) {
      await apply((state) => {
        state.previewSlot = slot;
      });
      return previewRoute(slot);
    },

    async setWeights(weights) {
      const { windowMs } = await apply((state) => {
        state.weights = { blue: weights.blue, green: weights.green };
      });
      // switchWindowMs: from the push to the last worker's ack; the workers switched inside it.
      logger.info('router.weights_set', { weights, switchWindowMs: Math.round(windowMs * 1000) / 1000 });
    },

    async verify(): Promise<RouterObservation> {
      const workerPool = current();
      const asked = tableOf(applied);
      const reads = await workerPool.read();
      if (reads.length === 0) return { kind: 'unverifiable', reason: 'no proxy worker is running' };
      // Any worker that disagrees with what was asked is what the data plane does for its share.
      const disagreeing = reads.find((read) => !sameTable(read.table, asked));
      const reported = disagreeing ?? reads[0]!;
      const { weights, targets } = reported.table;
      if (weights === undefined) {
        return {
          kind: 'unverifiable',
          reason: `proxy worker ${reported.pid} has no weights yet (setWeights was never called)`,
        };
      }
      return { kind: 'observed', weights, targets };
    },

    drain: (slot: Slot, options: DrainOptions) => current().drain(slot, options.deadline),

    /** inFlight: HTTP requests plus WebSockets still open on the slot, over all workers; connections: the WebSockets. */
    async drainStatus(slot: Slot): Promise<DrainStatus> {
      const status = await current().drainStatus(slot);
      return {
        kind: 'counted',
        inFlight: status.inFlight + status.webSockets,
        connections: status.webSockets,
      };
    },

    async cleanup(slot: Slot) {
      await apply((state) => {
        if (state.targets) state.targets = { ...state.targets, [slot]: [] };
        if (state.previewSlot === slot) state.previewSlot = undefined;
      });
    },

    async detach() {
      await opening?.catch(() => undefined);
      const workerPool = pool;
      if (workerPool === undefined) return;
      pool = undefined;
      workerPool.detach();
      logger.info('router.detached', {
        serving: 'the proxy workers keep the last table until a control plane adopts them',
      });
    },

    async close() {
      await opening?.catch(() => undefined);
      const workerPool = pool;
      if (workerPool === undefined) return;
      pool = undefined;
      await workerPool.close();
      logger.info('router.closed');
    },
  };
  return router;
}

function urlOf(address: AddressInfo, tls: boolean): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}
