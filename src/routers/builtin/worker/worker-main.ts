/**
 * A proxy worker: one process of the builtin router's data plane. It runs the proxy
 * (src/proxy) on listening sockets its control plane hands it, routes by the last table it was
 * given, and answers the control protocol (protocol.ts) on its own unix socket.
 *
 * Started by worker-process.ts with the socket path as its only argument; its settings come
 * over the IPC channel. When that channel goes (the control plane ended), the worker stops
 * accepting, finishes what is in flight and exits: nothing else would replace or reconfigure it.
 */
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import { CutoverError, isCutoverError } from '../../../shared/errors.js';
import { jsonLineSink, Logger } from '../../../shared/logger.js';
import { ProxyMetrics, type CompletedRequest } from '../../../proxy/metrics.js';
import { ProxyServer } from '../../../proxy/proxy-server.js';
import { proxyOptionsFrom } from '../proxy-options.js';
import type { FromWorker, ToWorker } from './ipc.js';
import { LineReader } from './line-reader.js';
import {
  MAX_LINE_BYTES,
  WORKER_PROTOCOL_VERSION,
  versionMismatch,
  workerRequest,
  type CompletedRecord,
  type DrainStatusAnswer,
  type HelloAnswer,
  type MetricsEvent,
  type ReadAnswer,
  type RoutingTable,
  type WorkerRequest,
} from './protocol.js';

/** How often completed requests are reported to the control plane (batched: one line, not one per request). */
const METRICS_FLUSH_MS = 50;
/** In-flight work gets this long when the control plane disappears without retiring us. */
const ORPHAN_GRACE_MS = 10_000;
/** Reported requests kept while no control connection listens; older ones are counted as dropped. */
const MAX_PENDING_RECORDS = 100_000;

const socketPath = process.argv[2];
if (socketPath === undefined || process.send === undefined) {
  process.stderr.write('cutover proxy worker: started without a control socket path or IPC channel\n');
  process.exit(2);
}
// Warnings and errors only: a worker's routine is its control plane's to log.
const logger = new Logger(jsonLineSink(process.stderr), 'warn').child({ worker: process.pid });

let proxy: ProxyServer | undefined;
let generation = 0;
let retiring = false;
const controls = new Set<net.Socket>();
const metrics = new ProxyMetrics();
let completed: CompletedRecord[] = [];
let reportedMirror = { blue: [0, 0] as [number, number], green: [0, 0] as [number, number] };
let reportedRefused = { live: 0, preview: 0 };

metrics.setObserver((request: CompletedRequest) => {
  if (completed.length >= MAX_PENDING_RECORDS) return;
  completed.push([
    request.slot,
    request.status,
    request.durationSeconds,
    request.proxyError,
    request.cut ?? null,
  ]);
});

const send = (message: FromWorker, handle?: object): void => {
  // The handle is a raw listening socket (see ProxyServer.listeningHandle); node passes it as is.
  process.send?.(message, handle as never);
};

process.on('message', (message: ToWorker, handle: unknown) => {
  void onIpc(message, handle).catch((error: unknown) => logger.error('worker.ipc_failed', { error }));
});
process.on('disconnect', () => {
  logger.warn('worker.orphaned', { reason: 'the control plane that started this worker is gone' });
  void retire(new Date(Date.now() + ORPHAN_GRACE_MS));
});

async function onIpc(message: ToWorker, handle: unknown): Promise<void> {
  switch (message.type) {
    case 'init': {
      try {
        proxy = new ProxyServer(proxyOptionsFrom(message.config, message.previewToken, logger, metrics));
        await listenControl(socketPath!);
        send({ type: 'ready' });
      } catch (error) {
        const code = isCutoverError(error) ? error.code : 'CUTOVER_E_ROUTER';
        send({ type: 'failed', code, message: (error as Error).message });
        process.exit(1);
      }
      return;
    }
    case 'bind': {
      const server = running();
      try {
        const address = await server.listen(message.role, message.host, message.port);
        send({ type: 'bound', role: message.role, address }, server.listeningHandle(message.role));
      } catch (error) {
        const errno = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
        send({ type: 'bind-failed', role: message.role, errno, message: (error as Error).message });
      }
      return;
    }
    case 'listen': {
      try {
        if (typeof handle !== 'object' || handle === null)
          throw new Error('no socket handle came with the message');
        await running().listenOnHandle(message.role, handle);
        send({ type: 'listening', role: message.role });
      } catch (error) {
        send({ type: 'listen-failed', role: message.role, message: (error as Error).message });
      }
      return;
    }
  }
}

function running(): ProxyServer {
  if (proxy === undefined) throw new CutoverError('CUTOVER_E_ROUTER', 'the worker was not initialised');
  return proxy;
}

async function listenControl(path: string): Promise<void> {
  // A path left by a worker that died with this pid earlier; nothing can be listening on it now.
  rmSync(path, { force: true });
  const server = net.createServer((socket) => serveControl(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // The directory is owner-only already; the socket is too, whatever the umask.
  chmodSync(path, 0o600);
  server.unref();
  const flush = setInterval(flushMetrics, METRICS_FLUSH_MS);
  flush.unref();
}

function serveControl(socket: net.Socket): void {
  let greeted = false;
  const answer = (line: object): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(line)}\n`);
  };
  const reader = new LineReader(
    MAX_LINE_BYTES,
    (line) => {
      let request: WorkerRequest;
      try {
        request = workerRequest.parse(JSON.parse(line));
      } catch {
        answer({
          id: -1,
          ok: false,
          code: 'CUTOVER_E_BAD_REQUEST',
          message: 'not a control protocol message',
        });
        socket.destroy();
        return;
      }
      if (!greeted && request.op !== 'hello') {
        answer({ id: request.id, ok: false, code: 'CUTOVER_E_BAD_REQUEST', message: 'hello first' });
        socket.destroy();
        return;
      }
      if (request.op === 'hello') {
        if (request.version !== WORKER_PROTOCOL_VERSION) {
          answer({
            id: request.id,
            ok: false,
            code: 'CUTOVER_E_ROUTER',
            message: versionMismatch(WORKER_PROTOCOL_VERSION, request.version),
          });
          socket.end();
          return;
        }
        greeted = true;
        controls.add(socket);
      }
      try {
        answer({ id: request.id, ok: true, result: perform(request) });
      } catch (error) {
        const code = isCutoverError(error) ? error.code : 'CUTOVER_E_ROUTER';
        answer({ id: request.id, ok: false, code, message: (error as Error).message });
      }
    },
    () => socket.destroy(),
  );
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => socket.destroy());
  socket.on('close', () => controls.delete(socket));
}

function perform(request: WorkerRequest): unknown {
  const server = running();
  switch (request.op) {
    case 'hello':
      return {
        version: WORKER_PROTOCOL_VERSION,
        pid: process.pid,
        generation,
        listening: server.address('live') !== undefined,
      } satisfies HelloAnswer;
    case 'apply':
      // Only newer tables: a push repeated or overtaken on the way changes nothing.
      if (request.generation > generation) {
        applyTable(server, request.table);
        generation = request.generation;
      }
      return { generation };
    case 'read': {
      const live = server.liveTable();
      const read: RoutingTable = {
        targets: {
          blue: live.targets.blue.map(({ id, host, port }) => ({ id, host, port })),
          green: live.targets.green.map(({ id, host, port }) => ({ id, host, port })),
        },
        ...(live.weights ? { weights: { blue: live.weights.blue, green: live.weights.green } } : {}),
        ...(live.previewSlot ? { previewSlot: live.previewSlot } : {}),
      };
      return { generation, table: read } satisfies ReadAnswer;
    }
    case 'drain':
      server.drain(request.slot, new Date(request.deadline));
      return {};
    case 'drainStatus': {
      const status = server.drainStatus(request.slot);
      return { inFlight: status.inFlight, webSockets: status.webSockets } satisfies DrainStatusAnswer;
    }
    case 'retire':
      void retire(new Date(request.deadline));
      return {};
  }
}

function applyTable(server: ProxyServer, next: RoutingTable): void {
  server.setTargets(next.targets);
  if (next.weights !== undefined) server.setWeights(next.weights);
  // The table is whole: a preview slot it no longer names is forgotten.
  if (next.previewSlot !== undefined) server.setPreviewSlot(next.previewSlot);
  else server.clearPreviewSlot();
}

function flushMetrics(): void {
  if (controls.size === 0) return;
  const snapshot = metrics.snapshot();
  const refused = metrics.refusedConnections();
  const mirrored = {
    blue: [snapshot.blue.mirrored, snapshot.blue.mirrorErrors] as [number, number],
    green: [snapshot.green.mirrored, snapshot.green.mirrorErrors] as [number, number],
  };
  const event: MetricsEvent = {
    event: 'metrics',
    completed,
    mirrored: {
      blue: [mirrored.blue[0] - reportedMirror.blue[0], mirrored.blue[1] - reportedMirror.blue[1]],
      green: [mirrored.green[0] - reportedMirror.green[0], mirrored.green[1] - reportedMirror.green[1]],
    },
    refused: {
      live: refused.live - reportedRefused.live,
      preview: refused.preview - reportedRefused.preview,
    },
  };
  const empty =
    event.completed.length === 0 &&
    event.refused.live + event.refused.preview === 0 &&
    event.mirrored.blue[0] + event.mirrored.blue[1] + event.mirrored.green[0] + event.mirrored.green[1] === 0;
  if (empty) return;
  completed = [];
  reportedMirror = mirrored;
  reportedRefused = refused;
  const line = `${JSON.stringify(event)}\n`;
  for (const socket of controls) if (!socket.destroyed) socket.write(line);
}

async function retire(deadline: Date): Promise<void> {
  if (retiring) return;
  retiring = true;
  logger.info('worker.retiring', { deadline: deadline.toISOString() });
  await proxy?.close(Math.max(0, deadline.getTime() - Date.now()));
  flushMetrics();
  // Let the last metrics line leave before the process ends.
  await Promise.all(
    [...controls].map((socket) => new Promise<void>((resolve) => socket.end(() => resolve()))),
  );
  rmSync(socketPath!, { force: true });
  process.exit(0);
}
