/**
 * The builtin router's data plane in worker processes: every worker routes by the table
 * setWeights last resolved with, a dead worker is replaced without the listening socket ever
 * refusing a connection, and the control socket refuses what is not its protocol.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { exportProxyMetrics } from '../../src/server/proxy-metrics-exporter.js';
import { Logger, silentLogger } from '../../src/shared/logger.js';
import { SLOTS, type Slot } from '../../src/shared/slot.js';
import { createBuiltinRouter, type BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { WORKER_PROTOCOL_VERSION } from '../../src/routers/builtin/worker/protocol.js';
import type { WorkerCountsReport } from '../../src/routers/builtin/worker/protocol.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { waitFor } from '../support/load.js';
import { waitUntilEnded } from '../support/pid-gone.js';
import { target } from './support/proxy-fixture.js';

/** One GET on a connection of its own (so the kernel spreads them over the workers). */
function getOnce(port: number): Promise<{ body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

interface Loop {
  /** Answers by body, for requests that started after `mark()`. */
  since(): { bodies: Record<string, number>; errors: string[] };
  mark(): void;
  stop(): Promise<void>;
}

/** `parallel` loops of fresh-connection GETs; what answered is counted from the last mark on. */
function loop(port: number, parallel: number): Loop {
  let running = true;
  let epoch = 0;
  let bodies: Record<string, number> = {};
  let errors: string[] = [];
  const loops = Array.from({ length: parallel }, async () => {
    while (running) {
      const startedIn = epoch;
      const answer = await getOnce(port);
      if (startedIn !== epoch) continue;
      if ('body' in answer) bodies[answer.body] = (bodies[answer.body] ?? 0) + 1;
      else errors.push(answer.error);
    }
  });
  return {
    since: () => ({ bodies: { ...bodies }, errors: [...errors] }),
    mark: () => {
      epoch += 1;
      bodies = {};
      errors = [];
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void describe('builtin router worker processes', () => {
  const backends: Record<Slot, VersionBackend | undefined> = { blue: undefined, green: undefined };
  let stateDir: string;

  before(async () => {
    backends.blue = await startVersionBackend('blue-1');
    backends.green = await startVersionBackend('green-1');
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'cutover-workers-test-'));
  });
  after(async () => {
    await backends.blue?.close();
    await backends.green?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  const targets = () => ({
    blue: [target('blue-1', backends.blue!.port)],
    green: [target('green-1', backends.green!.port)],
  });

  const open = async (
    workers: number,
    logger: Logger = silentLogger,
    onWorkerMetrics?: (pid: number, event: WorkerCountsReport) => void,
  ): Promise<BuiltinRouter> => {
    const router = createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0', workers }),
      {
        logger,
        stateDir,
        onWorkerMetrics,
      },
    );
    await router.open();
    await router.prepare(targets());
    await router.setWeights({ blue: 100, green: 0 });
    return router;
  };

  void it('after setWeights resolves, no worker answers from the old slot (a request loop per worker)', async (t) => {
    const perWorker = new Map<number, Record<Slot, number>>();
    const windows: number[] = [];
    const logger = new Logger((record) => {
      if (record.event === 'router.weights_set') windows.push(record.switchWindowMs as number);
    });
    const router = await open(2, logger, (pid, event) => {
      const counts = perWorker.get(pid) ?? { blue: 0, green: 0 };
      assert.equal(event.event, 'counts', 'a worker of this cutover reports bucket counts');
      if (event.event === 'counts') for (const slot of SLOTS) counts[slot] += event.slots[slot].requests;
      perWorker.set(pid, counts);
    });
    const guarded = guardRouter(router);
    const load = loop(router.address().live.port, 8);
    try {
      assert.equal(router.workerPids().length, 2);
      for (const [from, to] of [
        ['blue', 'green'],
        ['green', 'blue'],
        ['blue', 'green'],
      ] as const) {
        await waitFor(() => (load.since().bodies[`${from}-1`] ?? 0) > 20, { what: `traffic on ${from}` });
        await guarded.setWeights(to === 'green' ? { blue: 0, green: 100 } : { blue: 100, green: 0 });
        load.mark();
        // Every worker's share of what started after the switch, counted by the workers themselves
        // (what was in flight at the switch has finished by then).
        await new Promise((resolve) => setTimeout(resolve, 150));
        await router.refreshMetrics();
        const before = new Map([...perWorker].map(([pid, counts]) => [pid, { ...counts }]));
        await waitFor(() => (load.since().bodies[`${to}-1`] ?? 0) > 200, { what: `traffic on ${to}` });
        const seen = load.since();
        assert.deepEqual(Object.keys(seen.bodies), [`${to}-1`], `only ${to} answers after the switch`);
        assert.deepEqual(seen.errors, []);
        await new Promise((resolve) => setTimeout(resolve, 150));
        await router.refreshMetrics();
        for (const pid of router.workerPids()) {
          const now = perWorker.get(pid) ?? { blue: 0, green: 0 };
          const then = before.get(pid) ?? { blue: 0, green: 0 };
          assert.ok(now[to] > then[to], `worker ${pid} served ${to} after the switch`);
          assert.equal(now[from], then[from], `worker ${pid} served nothing from ${from} after the switch`);
        }
        const observation = await guarded.verify();
        assert.equal(observation.kind, 'observed');
        if (observation.kind === 'observed') assert.equal(observation.weights[to], 100);
      }
      // /metrics has every worker's series too, and they add up to the summed ones.
      await load.stop();
      await router.refreshMetrics();
      const registry = new Registry();
      exportProxyMetrics(router.metrics, registry);
      const text = await registry.metrics();
      let perWorkerTotal = 0;
      for (const pid of router.workerPids()) {
        const matches = [
          ...text.matchAll(
            new RegExp(`cutover_proxy_worker_requests_total\\{worker="${pid}",slot="\\w+"\\} (\\d+)`, 'g'),
          ),
        ];
        assert.ok(matches.length > 0, `worker ${pid} has its own series`);
        for (const match of matches) perWorkerTotal += Number(match[1]);
      }
      const summed = router.metrics.snapshot();
      assert.equal(perWorkerTotal, summed.blue.requests + summed.green.requests);
      // The analysis's latency histogram is summed from the workers' reports too.
      const inFineHistogram = [...summed.blue.fineLatency, ...summed.green.fineLatency].reduce(
        (a, b) => a + b,
        0,
      );
      assert.equal(inFineHistogram, perWorkerTotal);
      // The measured bound on two workers answering from different tables (docs/routers.md).
      assert.ok(windows.length >= 4);
      t.diagnostic(
        `switch window over 2 workers under load, ms: ${windows.map((ms) => ms.toFixed(2)).join(', ')}`,
      );
    } finally {
      await load.stop();
      await router.close();
    }
  });

  void it('a read after refreshMetrics() holds every request answered before it, though workers report unasked once a second', async () => {
    const router = await open(2);
    try {
      const before = router.metrics.snapshot().blue.requests;
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => getOnce(router.address().live.port)),
      );
      assert.ok(answers.every((answer) => 'body' in answer && answer.body === 'blue-1'));
      await router.refreshMetrics();
      assert.equal(router.metrics.snapshot().blue.requests - before, 40);
      // The scrape asks too: /metrics counts them at once.
      await Promise.all(Array.from({ length: 10 }, () => getOnce(router.address().live.port)));
      const registry = new Registry();
      exportProxyMetrics(router.metrics, registry, () => router.refreshMetrics());
      assert.match(
        await registry.metrics(),
        new RegExp(`^cutover_proxy_requests_total\\{slot="blue",code_class="2xx"\\} ${before + 50}$`, 'm'),
      );
    } finally {
      await router.close();
    }
  });

  void it('replaces a killed worker; with one worker the held socket queues connections for its replacement', async () => {
    const router = await open(1);
    const load = loop(router.address().live.port, 4);
    try {
      const [first] = router.workerPids();
      assert.ok(first !== undefined);
      await waitFor(() => (load.since().bodies['blue-1'] ?? 0) > 20, { what: 'traffic' });
      load.mark();
      process.kill(first, 'SIGKILL');
      await waitUntilEnded(first);
      await waitFor(() => router.workerPids().length === 1 && router.workerPids()[0] !== first, {
        what: 'a replacement worker',
      });
      await waitFor(() => (load.since().bodies['blue-1'] ?? 0) > 50, {
        what: 'traffic through the replacement',
      });
      const seen = load.since();
      // Requests in flight on the killed worker fail with it; the socket itself never refuses.
      assert.equal(seen.errors.filter((error) => error === 'ECONNREFUSED').length, 0, seen.errors.join(', '));
      assert.ok(seen.errors.length <= 4, `at most the in-flight requests fail: ${seen.errors.join(', ')}`);
      // The replacement routes by the table the killed one had.
      const observation = await router.verify();
      assert.deepEqual(observation.kind === 'observed' ? observation.weights : observation, {
        blue: 100,
        green: 0,
      });
    } finally {
      await load.stop();
      await router.close();
    }
  });

  void it('close() retires every worker and removes their control sockets; none is left running', async () => {
    const router = await open(2);
    const pids = router.workerPids();
    assert.equal(pids.length, 2);
    await router.close();
    for (const pid of pids) await waitUntilEnded(pid);
    assert.deepEqual(router.workerPids(), []);
    assert.deepEqual(await readdir(path.join(stateDir, 'workers')), []);
    await assert.rejects(
      getOnce(0).then((answer) => ('error' in answer ? Promise.reject(new Error(answer.error)) : answer)),
    );
  });

  void it('control sockets are owner-only and refuse another protocol version, garbage and oversized lines', async () => {
    const router = await open(1);
    try {
      const dir = path.join(stateDir, 'workers');
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      const [socketName] = await readdir(dir);
      assert.ok(socketName !== undefined);
      const socketPath = path.join(dir, socketName);
      assert.equal((await stat(socketPath)).mode & 0o777, 0o600);

      const exchange = (payload: string | Buffer): Promise<string> =>
        new Promise((resolve) => {
          const socket = net.connect(socketPath);
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          socket.on('error', () => undefined);
          socket.on('close', () => resolve(text));
          socket.write(payload, () => socket.end());
        });

      const mismatch = await exchange(
        `${JSON.stringify({ id: 1, op: 'hello', version: WORKER_PROTOCOL_VERSION + 1 })}\n`,
      );
      assert.match(mismatch, /protocol 1 cannot be driven by a control plane speaking protocol 2/);
      assert.match(await exchange('{not json\n'), /CUTOVER_E_BAD_REQUEST/);
      assert.match(await exchange(`${JSON.stringify({ id: 1, op: 'read' })}\n`), /hello first/);
      await exchange(Buffer.alloc(5 * 1024 * 1024, 0x61));
      assert.match(
        await exchange(`${JSON.stringify({ id: 1, op: 'apply', generation: 'x' })}\n`),
        /CUTOVER_E_BAD_REQUEST/,
      );

      // None of it reached the routing table or the worker's life.
      const [pid] = router.workerPids();
      assert.ok(pid !== undefined && isAlive(pid));
      const answer = await getOnce(router.address().live.port);
      assert.deepEqual(answer, { body: 'blue-1' });
    } finally {
      await router.close();
    }
  });
});
