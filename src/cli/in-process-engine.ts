import { hostname } from 'node:os';
import type { CutoverConfig } from '../config/schema.js';
import { DEFAULTS } from '../config/defaults.js';
import type { DeploymentEngine } from '../engine/deployment-engine.js';
import { parseLeaseOwner } from '../engine/engine-context.js';
import { CutoverError } from '../shared/errors.js';
import { Logger, jsonLineSink, type LogLevel } from '../shared/logger.js';
import type { Platform } from '../shared/platform.js';
import { assembleApp, closeApp, openAppStore, startApp, type OpenedApp } from '../server/open-app.js';
import type { Lease, Store } from '../shared/store.js';
import { processExists } from '../shared/process-exists.js';

/**
 * One-shot mode: the deployment engine run inside the CLI, against the same store and lease as
 * `cutover server`, for routers whose data plane lives outside cutover (nginx, HAProxy …).
 */
export interface InProcessEngine {
  readonly config: CutoverConfig;
  readonly store: Store;
  readonly platform: Platform;
  readonly engine: DeploymentEngine;
  /**
   * Waits for `work`, unless SIGINT or SIGTERM comes first: then throws CUTOVER_E_INTERRUPTED
   * with `where()` (what was under way). The runs stay journaled; close() stops them.
   */
  untilInterrupted<T>(work: Promise<T>, where: () => string): Promise<T>;
  /** Stops timers and lets go of the router, the store and the lease; instances keep running. */
  close(): Promise<void>;
}

export interface InProcessOptions {
  /** The verb, recorded in the lease owner so a refused second caller sees who holds it. */
  readonly verb: string;
  /**
   * Verbs that move traffic or drive a deployment hold the app lease for the whole session, open
   * the router, reconcile the platform and resume what the journal says was under way. Read-only
   * verbs (status, history, logs) touch neither router nor platform state.
   */
  readonly drive: boolean;
  readonly logLevel?: LogLevel;
}

let interruptedBySignal = false;

/**
 * A one-shot CLI stopped by a signal exits once its session is closed, even if a run that the
 * engine's close() did not stop still holds the event loop: the journal has what it needs.
 */
export function wasInterruptedBySignal(): boolean {
  return interruptedBySignal;
}

/** Owner of the session's lease: `cutover@host:pid one-shot <verb>`, parsed like the engine's owners. */
function sessionOwner(verb: string): string {
  return `cutover@${hostname()}:${process.pid} one-shot ${verb}`;
}

export async function openInProcessEngine(
  config: CutoverConfig,
  options: InProcessOptions,
): Promise<InProcessEngine> {
  const logger = new Logger(jsonLineSink(process.stderr), options.logLevel ?? 'warn').child({
    app: config.app,
    mode: 'one-shot',
  });
  const store = openAppStore(config);
  const owner = sessionOwner(options.verb);
  let holdsLease = false;
  let renewTimer: NodeJS.Timeout | undefined;
  /** The renewal on its way to the store: never two at once, and awaited before the store closes. */
  let renewing: Promise<void> | undefined;
  let app: OpenedApp | undefined;
  const releaseLease = async (): Promise<void> => {
    clearInterval(renewTimer);
    await renewing;
    if (!holdsLease) return;
    holdsLease = false;
    await store.releaseLease(config.app, owner);
  };
  const renew = async (): Promise<void> => {
    if (!holdsLease) return;
    if (await store.renewLease(config.app, owner, DEFAULTS.lockLeaseMs)) return;
    // The engine took it over for a deployment (EngineOptions.heldLease): nothing left to renew.
    if (await heldByThisProcess(store, config.app)) {
      holdsLease = false;
      clearInterval(renewTimer);
    } else logger.warn('one-shot.lease-lost', { owner });
  };
  try {
    if (options.drive) {
      await takeSessionLease(store, config.app, owner);
      holdsLease = true;
      renewTimer = setInterval(() => {
        // A store error (SQLITE_BUSY, a full disk) is logged; the next tick tries again.
        renewing ??= renew()
          .catch((error: unknown) =>
            logger.error('one-shot.lease-renew-failed', { error: (error as Error).message }),
          )
          .finally(() => {
            renewing = undefined;
          });
      }, DEFAULTS.lockRenewEveryMs);
      renewTimer.unref();
    }
    // The engine takes the session's lease over for the deployment it drives (resumed or new):
    // refusing it would stop this very CLI, and releasing it first would leave the lease free.
    app = await assembleApp(config, store, logger, options.drive ? { heldLease: owner } : {});
    if (options.drive) await startApp(app);
  } catch (error) {
    // Close failures are logged; the error that stopped the start is the one thrown.
    if (app) await closeApp(app, logger).catch(() => undefined);
    await releaseLease().catch(() => undefined);
    await store.close();
    throw error;
  }
  const opened = app;
  const signals = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    interruptedBySignal = true;
    signals.abort(signal);
  };
  if (options.drive) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  let closing: Promise<void> | undefined;
  return {
    config,
    store,
    platform: app.platform,
    engine: app.engine,
    untilInterrupted: (work, where) =>
      new Promise((resolve, reject) => {
        let settle = (): void => undefined;
        const interrupt = (): void => {
          settle();
          reject(
            new CutoverError(
              'CUTOVER_E_INTERRUPTED',
              `stopped by ${String(signals.signal.reason)} ${where()}: it stays journaled, and the next \`cutover deploy\`, \`rollback\`, \`abort\`, \`promote\` or \`retire\` (or a \`cutover server\`) resumes it; \`cutover status\` shows where it stands`,
            ),
          );
        };
        if (signals.signal.aborted) return interrupt();
        signals.signal.addEventListener('abort', interrupt, { once: true });
        // The engine's waits (drain, pauses) use unref'd timers, right for a server; here they
        // are all the CLI waits on, so something must keep the process alive until they end.
        const keepAlive = setInterval(() => undefined, 60_000);
        settle = (): void => {
          clearInterval(keepAlive);
          signals.signal.removeEventListener('abort', interrupt);
        };
        work.then(
          (value) => {
            settle();
            resolve(value);
          },
          (error: unknown) => {
            settle();
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }),
    close: () => {
      closing ??= (async () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await closeApp(opened, logger, { routerOpened: options.drive });
        // The store closes last: the engine's and the session's last writes land first.
        await releaseLease();
        await store.close();
      })();
      return closing;
    },
  };
}

async function heldByThisProcess(store: Store, app: string): Promise<boolean> {
  const lease = await store.getLease(app);
  const holder = lease ? parseLeaseOwner(lease.owner) : undefined;
  return holder !== undefined && holder.host === hostname() && holder.pid === process.pid;
}

/**
 * Takes the app lease for this CLI. A live holder (a server's run or another one-shot CLI) means
 * exit 3 naming it; a holder that was a cutover process on this host and is gone is taken over.
 */
async function takeSessionLease(store: Store, app: string, owner: string): Promise<void> {
  const current = await store.getLease(app);
  if (current) {
    const holder = parseLeaseOwner(current.owner);
    if (holder && holder.host === hostname() && holder.pid !== process.pid && !processExists(holder.pid))
      await store.releaseLease(app, current.owner);
  }
  const result = await store.acquireLease(app, owner, DEFAULTS.lockLeaseMs);
  if (!result.acquired) throw lockedBy(app, result.holder);
}

/**
 * Whether a one-shot CLI could take the app lease now, without taking it (`deploy --plan`):
 * free, expired, or held by a cutover process of this host that is gone.
 */
export async function refuseWhileLocked(store: Store, app: string): Promise<void> {
  const lease = await store.getLease(app);
  if (lease === undefined || Date.parse(lease.expiresAt) <= Date.now()) return;
  const holder = parseLeaseOwner(lease.owner);
  if (holder && holder.host === hostname() && holder.pid !== process.pid && !processExists(holder.pid))
    return;
  throw lockedBy(app, lease);
}

function lockedBy(app: string, holder: Lease): CutoverError {
  return new CutoverError(
    'CUTOVER_E_LOCKED',
    `another deployment of ${app} is in progress: the lock is held by ${holder.owner} until ${holder.expiresAt}`,
    { details: { holder } },
  );
}

/** Opens a session for one verb and closes it whatever happens. */
export async function withInProcessEngine<T>(
  config: CutoverConfig,
  options: InProcessOptions,
  body: (session: InProcessEngine) => Promise<T>,
): Promise<T> {
  const session = await openInProcessEngine(config, options);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}
