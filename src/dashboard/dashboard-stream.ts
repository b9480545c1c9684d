/**
 * `GET /dashboard/stream`: the page's only source of data, as Server-Sent Events, authenticated
 * by the session cookie. `snapshot` (everything the page shows) on connect and shortly after
 * each engine event; each engine event itself as `engine`, at once, so the page moves without
 * waiting for the snapshot; `metrics` once a second. The page never polls.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeploymentEngine } from '../engine/deployment-engine.js';
import type { DeploymentEvent } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { Platform } from '../shared/platform.js';
import { SLOTS } from '../shared/slot.js';
import type { Store } from '../shared/store.js';
import type { SlotMetricsSampler } from './slot-metrics.js';

export interface StreamSources {
  readonly app: string;
  readonly engine: DeploymentEngine;
  readonly store: Store;
  readonly platform: Platform;
  readonly sampler: SlotMetricsSampler | undefined;
  readonly logger: Logger;
}

const SNAPSHOT_DELAY_MS = 100;
const MAX_SKIPPED_SNAPSHOTS = 5;
const METRICS_INTERVAL_MS = 1000;
const KEEP_ALIVE_MS = 15_000;
const LOG_TAIL = 20;
const RECENT_EVENTS = 50;
/** A client that reads nothing while this much waits in its socket buffer is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** Everything the page renders, read in one go. */
export async function readSnapshot(sources: StreamSources, user: string): Promise<Record<string, unknown>> {
  const { app, engine, store, platform } = sources;
  const status = await engine.status();
  const deployments = await store.listDeployments(app, 20);
  const current = status.active[status.active.length - 1] ?? deployments[0];
  const [journal, audit, releases, logs] = await Promise.all([
    current ? store.journal(current.id) : Promise.resolve([]),
    store.auditLog(app, 30),
    store.listReleases(app),
    Promise.all(SLOTS.map((slot) => platform.logs(slot, { tail: LOG_TAIL }).catch(() => []))),
  ]);
  return {
    user,
    status,
    deployments,
    current: current ?? null,
    journal,
    // The gate a run waits at is told in its latest events (a message after the last move).
    events: current ? sources.engine.events.history(current.id).slice(-RECENT_EVENTS) : [],
    audit,
    releases: releases.map((release) => release.release),
    logs: { blue: logs[0], green: logs[1] },
    at: new Date().toISOString(),
  };
}

export function streamDashboard(
  request: IncomingMessage,
  response: ServerResponse,
  sources: StreamSources,
  user: string,
): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let open = true;
  const send = (type: string, data: unknown): void => {
    if (!open) return;
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      response.destroy();
      return;
    }
    response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  let snapshotTimer: NodeJS.Timeout | undefined;
  let reading = false;
  let eventsSent = 0;
  let skipped = 0;
  let again = false;
  const sendSnapshot = (): void => {
    snapshotTimer = undefined;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    const eventsBefore = eventsSent;
    readSnapshot(sources, user)
      .then((snapshot) => {
        // An event sent while this was read may be newer than what it read: the snapshot
        // would move the page back. The next one (already scheduled by that event) is sent
        // instead — unless events keep coming, when a slightly old view beats none.
        if (eventsSent !== eventsBefore && skipped < MAX_SKIPPED_SNAPSHOTS) {
          skipped += 1;
          return;
        }
        skipped = 0;
        send('snapshot', snapshot);
      })
      .catch((error: unknown) => {
        sources.logger.warn('dashboard.snapshot-failed', { error: (error as Error).message });
        send('problem', {
          message: 'the server could not read its state; it will try again at the next event',
        });
      })
      .finally(() => {
        reading = false;
        if (again && open) {
          again = false;
          snapshotTimer ??= setTimeout(sendSnapshot, SNAPSHOT_DELAY_MS);
        }
      });
  };
  const onEvent = (event: DeploymentEvent): void => {
    send('engine', event);
    eventsSent += 1;
    snapshotTimer ??= setTimeout(sendSnapshot, SNAPSHOT_DELAY_MS);
  };
  const unsubscribe = sources.engine.events.subscribe(onEvent);
  const sampleMetrics = (): void => {
    const sampler = sources.sampler;
    if (!sampler) {
      send('metrics', { available: false });
      return;
    }
    sampler
      .sample()
      .then((sample) => send('metrics', sample))
      .catch((error: unknown) =>
        sources.logger.warn('dashboard.metrics-failed', { error: (error as Error).message }),
      );
  };
  const metricsTimer = setInterval(sampleMetrics, METRICS_INTERVAL_MS);
  const keepAlive = setInterval(() => open && response.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  sendSnapshot();
  sampleMetrics();
  const stop = (): void => {
    open = false;
    unsubscribe();
    clearInterval(metricsTimer);
    clearInterval(keepAlive);
    if (snapshotTimer) clearTimeout(snapshotTimer);
  };
  request.on('close', stop);
  response.on('close', stop);
}
