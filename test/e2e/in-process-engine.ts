/**
 * The deployment engine in the test process, on the files of a CutoverHarness project (real
 * store, real process platform, real router — builtin or a daemon's), with the router wrapped
 * in a FaultyRouter. For tests that inject faults into a move or shrink the lease; tests that
 * kill the server use the harness's child process instead.
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import { DeploymentEngine, type EngineOptions } from '../../src/engine/deployment-engine.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import type { Phase } from '../../src/shared/phase.js';
import { createPlatform } from '../../src/platforms/registry.js';
import { createRouter, type CreatedRouter } from '../../src/routers/registry.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import type { DeploymentRecord, Store } from '../../src/shared/store.js';
import { FaultyRouter } from '../support/faulty-router.js';
import { waitFor } from '../support/load.js';
import type { CutoverHarness } from './harness.js';

export interface InProcessEngine {
  readonly config: CutoverConfig;
  readonly engine: DeploymentEngine;
  readonly store: Store;
  readonly router: FaultyRouter;
  readonly logs: LogRecord[];
  /** Engine, platform and router closed; the store too. The harness tears down the rest. */
  close(): Promise<void>;
}

export interface InProcessOptions {
  readonly engine?: Pick<EngineOptions, 'lease'>;
  readonly store?: SqliteStoreOptions;
}

export async function startInProcess(
  harness: CutoverHarness,
  options: InProcessOptions = {},
): Promise<InProcessEngine> {
  const config = loadConfig(harness.configFile);
  const logs: LogRecord[] = [];
  const logger = new Logger((record) => logs.push(record), 'debug').child({ app: config.app });
  const store = openSqliteStore(path.join(config.stateDirPath, 'cutover.db'), options.store);
  const platform = await createPlatform(config, logger);
  let created: CreatedRouter | undefined;
  try {
    created = await createRouter(config, { logger, previewToken: 'in-process-preview-token' });
    const router = new FaultyRouter(created.router);
    const engine = new DeploymentEngine({ config, store, router, platform, logger, ...options.engine });
    await router.open();
    await engine.recover();
    let closed: Promise<void> | undefined;
    return {
      config,
      engine,
      store,
      router,
      logs,
      close: () =>
        (closed ??= (async () => {
          await engine.close();
          await platform.close();
          await router.close();
          await store.close();
        })()),
    };
  } catch (error) {
    await platform.close();
    await created?.router.close();
    await store.close();
    throw error;
  }
}

/** Polls the store until the deployment is in one of `phases`. */
export async function waitForPhase(
  store: Store,
  id: string,
  phases: readonly Phase[],
  timeoutMs = 30_000,
): Promise<DeploymentRecord> {
  let record: DeploymentRecord | undefined;
  await waitFor(
    async () => {
      record = await store.getDeployment(id);
      return record !== undefined && phases.includes(record.phase);
    },
    {
      timeoutMs,
      intervalMs: 20,
      what: `deployment ${id} to reach ${phases.join('/')} (last: ${record?.phase})`,
    },
  );
  return record!;
}

/** Deploys and waits until it serves (standby; a first deploy, with no old slot, retires at once). */
export async function deployToStandby(
  app: Pick<InProcessEngine, 'engine' | 'store'>,
  release: string,
): Promise<DeploymentRecord> {
  const { deployment } = await app.engine.deploy(release, 'test');
  const record = await waitForPhase(app.store, deployment.id, ['standby', 'retired', 'aborted']);
  if (record.phase === 'aborted')
    throw new Error(`deploy of ${release} ended ${record.phase}: ${record.reason?.message}`);
  return record;
}

/** The body of one fresh request through the live entry point. */
export async function servedBy(url: string): Promise<string> {
  const response = await fetch(url, { headers: { connection: 'close' } });
  return (await response.text()).trim();
}

/** True once the deployment's run says it waits at a manual gate (`cutover promote`). */
export function waitsAtGate(app: InProcessEngine, id: string): boolean {
  return app.engine.events
    .history(id)
    .some((event) => event.type === 'message' && event.message.includes('waiting for `cutover promote`'));
}

/** Opens the manual gate as soon as the run waits at it. */
export async function promoteAtGate(app: InProcessEngine, id: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await app.engine.promote('test', id);
        return true;
      } catch (error) {
        if (isCutoverError(error, 'CUTOVER_E_INVALID_STATE')) return false;
        throw error;
      }
    },
    { timeoutMs: 30_000, what: `deployment ${id} to wait at its gate` },
  );
}
