/**
 * A proxy worker: one process of the builtin router's data plane. It runs the proxy
 * (src/proxy) on listening sockets it was handed, routes by the last table it was given, and
 * answers the control protocol (protocol.ts) on its own unix socket.
 *
 * Started with the socket path as its only argument, by a control plane or by another worker
 * (fork op); the listening sockets come over the IPC channel from whichever started it, the
 * settings and tables over the control socket. It outlives both: when its starter goes it keeps
 * serving the last table, until a control plane (the restarted one) adopts it or retires it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { CutoverError, isCutoverError } from '../../../shared/errors.js';
import { childEnv } from '../../../shared/child-env.js';
import { jsonLineSink, Logger } from '../../../shared/logger.js';
import { countsSince, isEmptyDelta } from '../../../proxy/counts-delta.js';
import { ProxyMetrics } from '../../../proxy/metrics.js';
import { NO_SHADOW_COUNTS, type ShadowCounts } from '../../../proxy/shadow/shadow-sample.js';
import { ProxyServer, type ListenerRole } from '../../../proxy/proxy-server.js';
import type { BuiltinRouterConfig } from '../config.js';
import { proxyOptionsFrom } from '../proxy-options.js';
import type { FromWorker, ToWorker } from './ipc.js';
import { LineReader } from './line-reader.js';
import {
  codeIdentity,
  MAX_LINE_BYTES,
  WORKER_PROTOCOL_VERSION,
  versionMismatch,
  workerRequest,
  type CountsEvent,
  type DrainStatusAnswer,
  type ForkAnswer,
  type HelloAnswer,
  type ShadowEvent,
  type ReadAnswer,
  type RoutingTable,
  type WorkerRequest,
} from './protocol.js';

/**
 * How often the worker reports its counts unasked (one line of bucket counts, the same size at
 * any rate). Each report wakes the control process, which shares the cores: ten a second cost
 * about 0.2 ms at p99 (docs/performance.md), so a reader that needs fresh counts (an analysis
 * check, a scrape) asks for a report (`report`) instead.
 */
const METRICS_FLUSH_MS = 1_000;
/** How often differing shadow pairs and counts are sent (only while a shadow stage compares). */
const SHADOW_FLUSH_MS = 100;
/** A sibling that has not taken its sockets within this is killed and the fork refused. */
const FORK_TIMEOUT_MS = 20_000;
const ROLES: readonly ListenerRole[] = ['live', 'preview'];
/**
 * A retiring worker closes an idle keep-alive connection once it has been idle this long; a
 * busy one gets `Connection: close` on its next answer, so no close races a client's request.
 */
const RETIRE_LINGER_MS = 1_000;
/** Which cutover this worker runs: a control plane of other code hands over to its own workers. */
const CODE = codeIdentity(fileURLToPath(import.meta.url));

const socketPath = process.argv[2];
if (socketPath === undefined) {
  process.stderr.write('cutover proxy worker: started without a control socket path\n');
  process.exit(2);
}
// Warnings and errors only: a worker's routine is its control plane's to log.
const logger = new Logger(jsonLineSink(process.stderr), 'warn').child({ worker: process.pid });

let proxy: ProxyServer | undefined;
/** Listening sockets handed over but not accepted on yet. */
const held = new Map<ListenerRole, object>();
let generation = 0;
let retiring = false;
const controls = new Set<net.Socket>();
const metrics = new ProxyMetrics();
/** The counts as of the last report (reports carry what was added since). */
let reported = metrics.snapshot();
let reportedRefused = metrics.refusedConnections();

const send = (message: FromWorker, handle?: object): void => {
  // The handle is a raw listening socket (see ProxyServer.listeningHandle); node passes it as is.
  process.send?.(message, handle as never);
};

process.on('message', (message: ToWorker, handle: unknown) => {
  void onIpc(message, handle).catch((error: unknown) => logger.error('worker.ipc_failed', { error }));
});
// The starter went away (a control plane killed or restarted, a retired sibling): keep serving.
process.on('disconnect', () =>
  logger.warn('worker.starter_gone', { serving: proxy?.address('live') !== undefined }),
);

await listenControl(socketPath);
send({ type: 'ready' });

async function onIpc(message: ToWorker, handle: unknown): Promise<void> {
  switch (message.type) {
    case 'bind': {
      try {
        const server = running();
        const address = await server.listen(message.role, message.host, message.port);
        send({ type: 'bound', role: message.role, address }, server.listeningHandle(message.role));
      } catch (error) {
        const errno = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
        send({ type: 'bind-failed', role: message.role, errno, message: (error as Error).message });
      }
      return;
    }
    case 'socket': {
      if (typeof handle === 'object' && handle !== null) held.set(message.role, handle);
      send({ type: 'socket-held', role: message.role });
      return;
    }
  }
}

function running(): ProxyServer {
  if (proxy === undefined)
    throw new CutoverError('CUTOVER_E_ROUTER', 'the worker has no settings yet (init first)');
  return proxy;
}

async function listenControl(path: string): Promise<void> {
  // A path left by a worker killed outright; nothing can be listening on it now (the name is new).
  rmSync(path, { force: true });
  const server = net.createServer((socket) => serveControl(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // The directory is owner-only already; the socket is too, whatever the umask.
  chmodSync(path, 0o600);
  const flush = setInterval(flushMetrics, METRICS_FLUSH_MS);
  flush.unref();
  const flushShadowTimer = setInterval(flushShadow, SHADOW_FLUSH_MS);
  flushShadowTimer.unref();
}

function serveControl(socket: net.Socket): void {
  let greeted = false;
  // One request at a time per connection, answered in order.
  let queue = Promise.resolve();
  const answer = (line: object): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(line)}\n`);
  };
  const refuse = (id: number, message: string): void => {
    answer({ id, ok: false, code: 'CUTOVER_E_BAD_REQUEST', message });
    socket.end();
  };
  const reader = new LineReader(
    MAX_LINE_BYTES,
    (line) => {
      let request: WorkerRequest;
      try {
        request = workerRequest.parse(JSON.parse(line));
      } catch {
        refuse(-1, 'not a control protocol message');
        return;
      }
      if (!greeted && request.op !== 'hello') {
        refuse(request.id, 'hello first');
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
      queue = queue.then(async () => {
        try {
          answer({ id: request.id, ok: true, result: await perform(request) });
        } catch (error) {
          const code = isCutoverError(error) ? error.code : 'CUTOVER_E_ROUTER';
          answer({ id: request.id, ok: false, code, message: (error as Error).message });
        }
      });
    },
    () => socket.destroy(),
  );
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => socket.destroy());
  socket.on('close', () => controls.delete(socket));
}

async function perform(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'hello':
      return {
        version: WORKER_PROTOCOL_VERSION,
        pid: process.pid,
        generation,
        code: CODE,
        initialised: proxy !== undefined,
        retiring,
        reportsOnRequest: true,
        listening: {
          ...(proxy?.address('live') ? { live: proxy.address('live') } : {}),
          ...(proxy?.address('preview') ? { preview: proxy.address('preview') } : {}),
        },
      } satisfies HelloAnswer;
    case 'init': {
      if (proxy !== undefined) return {};
      // The router's config section as the control plane parsed it (owner-only socket): a field
      // of the wrong shape fails this request, never the process.
      const config = request.config as unknown as BuiltinRouterConfig;
      proxy = new ProxyServer(proxyOptionsFrom(config, request.previewToken, logger, metrics));
      return {};
    }
    case 'accept': {
      const server = running();
      for (const [role, handle] of held) {
        await server.listenOnHandle(role, handle);
        held.delete(role);
      }
      return {};
    }
    case 'fork':
      return forkSibling(request.entry, request.execArgv, request.socketPath);
    case 'apply': {
      const server = running();
      // Only newer tables: a push repeated or overtaken on the way changes nothing.
      if (request.generation > generation) {
        applyTable(server, request.table);
        generation = request.generation;
      }
      return { generation };
    }
    case 'read':
      return { generation, table: readTable(running()) } satisfies ReadAnswer;
    case 'drain':
      running().drain(request.slot, new Date(request.deadline));
      return {};
    case 'drainStatus': {
      const status = running().drainStatus(request.slot);
      return { inFlight: status.inFlight, webSockets: status.webSockets } satisfies DrainStatusAnswer;
    }
    case 'report':
      flushMetrics();
      return {};
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

function readTable(server: ProxyServer): RoutingTable {
  const live = server.liveTable();
  return {
    targets: {
      blue: live.targets.blue.map(({ id, host, port }) => ({ id, host, port })),
      green: live.targets.green.map(({ id, host, port }) => ({ id, host, port })),
    },
    ...(live.weights ? { weights: { blue: live.weights.blue, green: live.weights.green } } : {}),
    ...(live.previewSlot ? { previewSlot: live.previewSlot } : {}),
  };
}

/** Starts a sibling and hands it every listening socket this worker accepts on or holds. */
async function forkSibling(entry: string, execArgv: string[], path: string): Promise<ForkAnswer> {
  const child = fork(entry, [path], {
    execArgv,
    env: childEnv(),
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), FORK_TIMEOUT_MS);
  try {
    await answered(child, 'ready');
    for (const role of ROLES) {
      const handle = proxy?.listeningHandle(role) ?? held.get(role);
      if (handle === undefined) continue;
      const taken = answered(child, 'socket-held');
      child.send({ type: 'socket', role } satisfies ToWorker, handle as never);
      await taken;
    }
    // The sibling lives on its own: this worker's exit must not wait for it or end it.
    child.disconnect();
    child.unref();
    return { pid: child.pid ?? 0 };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function answered(child: ChildProcess, type: FromWorker['type']): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker): void => {
      if (message.type !== type) return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(
        new CutoverError(
          'CUTOVER_E_ROUTER',
          `the new proxy worker exited (code ${code}) before it took its sockets`,
        ),
      );
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function flushMetrics(): void {
  if (controls.size === 0) return;
  const now = metrics.snapshot();
  const refused = metrics.refusedConnections();
  const event: CountsEvent = {
    event: 'counts',
    slots: { blue: countsSince(now.blue, reported.blue), green: countsSince(now.green, reported.green) },
    refused: {
      live: refused.live - reportedRefused.live,
      preview: refused.preview - reportedRefused.preview,
    },
  };
  const empty =
    isEmptyDelta(event.slots.blue) &&
    isEmptyDelta(event.slots.green) &&
    event.refused.live + event.refused.preview === 0;
  if (empty) return;
  reported = now;
  reportedRefused = refused;
  const line = `${JSON.stringify(event)}\n`;
  for (const socket of controls) if (!socket.destroyed) socket.write(line);
}

/** Shadow comparison counts since the last report, and the differing pairs (mirror.compare). */
let reportedShadow: Record<'blue' | 'green', ShadowCounts> = {
  blue: NO_SHADOW_COUNTS,
  green: NO_SHADOW_COUNTS,
};

function flushShadow(): void {
  const comparer = proxy?.shadow;
  if (controls.size === 0 || comparer === undefined) return;
  const counts = comparer.counts();
  const since = (slot: 'blue' | 'green'): ShadowCounts => ({
    compared: counts[slot].compared - reportedShadow[slot].compared,
    differing: counts[slot].differing - reportedShadow[slot].differing,
    dropped: counts[slot].dropped - reportedShadow[slot].dropped,
  });
  const delta = { blue: since('blue'), green: since('green') };
  const changed = (['blue', 'green'] as const).some(
    (slot) => delta[slot].compared + delta[slot].differing + delta[slot].dropped > 0,
  );
  if (!changed) return;
  // Samples go with the counts they belong to (a differing pair is counted when it is kept).
  const event: ShadowEvent = { event: 'shadow', counts: delta, samples: comparer.takeSamples() };
  reportedShadow = counts;
  const line = `${JSON.stringify(event)}\n`;
  for (const socket of controls) if (!socket.destroyed) socket.write(line);
}

async function retire(deadline: Date): Promise<void> {
  if (retiring) return;
  retiring = true;
  await proxy?.close(Math.max(0, deadline.getTime() - Date.now()), RETIRE_LINGER_MS);
  flushMetrics();
  flushShadow();
  // The socket file goes first: a control plane that looks now finds no worker to adopt here.
  rmSync(socketPath!, { force: true });
  // Let the last metrics line leave before the process ends.
  await Promise.all(
    [...controls].map((socket) => new Promise<void>((resolve) => socket.end(() => resolve()))),
  );
  process.exit(0);
}
