/**
 * A proxy worker reports its counts since its last report (bucket counts, not one record per
 * request). What the control plane sums from those reports must equal what one process counting
 * every request would hold; a report line that does not fit the protocol ends that connection.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { countsSince } from '../../src/proxy/counts-delta.js';
import { EXCHANGE_CUTS, ProxyMetrics, type ExchangeCut } from '../../src/proxy/metrics.js';
import { ControlClient } from '../../src/routers/builtin/worker/control-client.js';
import {
  countsEvent,
  WORKER_PROTOCOL_VERSION,
  type WorkerCountsReport,
} from '../../src/routers/builtin/worker/protocol.js';
import { SLOTS } from '../../src/shared/slot.js';

const request = fc.record({
  slot: fc.constantFrom(...SLOTS),
  status: fc.oneof(
    fc.constantFrom(0, 101, 200, 204, 301, 404, 499, 500, 502, 504),
    fc.integer({ min: 0, max: 999 }),
  ),
  durationSeconds: fc.oneof(
    fc.double({ min: 0, max: 200, noNaN: true }),
    fc.constantFrom(0, 0.0001, 0.0005, 0.1, 10),
  ),
  proxyError: fc.boolean(),
  cut: fc.option(fc.constantFrom<ExchangeCut>(...EXCHANGE_CUTS), { nil: undefined }),
  mirror: fc.option(fc.boolean(), { nil: undefined }),
  /** A report goes out after this request. */
  flush: fc.boolean(),
});

/** The report as it crosses the socket: JSON, then the control plane's schema. */
function overTheWire(metrics: ProxyMetrics, reported: ReturnType<ProxyMetrics['snapshot']>) {
  const now = metrics.snapshot();
  const line = JSON.stringify({
    event: 'counts',
    slots: { blue: countsSince(now.blue, reported.blue), green: countsSince(now.green, reported.green) },
    refused: { live: 0, preview: 0 },
  });
  return { now, event: countsEvent.parse(JSON.parse(line)) };
}

void describe('worker counts reports', () => {
  void it('summed from reports at any points, equal what one process counting every request holds', () => {
    fc.assert(
      fc.property(fc.array(request, { maxLength: 200 }), (requests) => {
        const worker = new ProxyMetrics();
        const direct = new ProxyMetrics();
        const summed = new ProxyMetrics();
        let reported = worker.snapshot();
        const report = (): void => {
          const { now, event } = overTheWire(worker, reported);
          reported = now;
          for (const slot of SLOTS) {
            summed.add(slot, event.slots[slot]);
            summed.recordWorker('7', slot, event.slots[slot].requests, event.slots[slot].errors);
          }
        };
        for (const r of requests) {
          for (const metrics of [worker, direct]) {
            metrics.record(r.slot, r.status, r.durationSeconds, r.proxyError, r.cut);
            if (r.mirror !== undefined) metrics.recordMirror(r.slot, r.mirror);
          }
          if (r.flush) report();
        }
        report();
        const expected = direct.snapshot();
        const actual = summed.snapshot();
        for (const slot of SLOTS) {
          const { latencySecondsSum: expectedSum, ...expectedRest } = expected[slot];
          const { latencySecondsSum: actualSum, ...actualRest } = actual[slot];
          assert.deepEqual(actualRest, expectedRest);
          assert.ok(
            Math.abs(actualSum - expectedSum) <= 1e-9 * Math.max(1, expectedSum),
            `${actualSum} ≈ ${expectedSum}`,
          );
          const workerRow = summed.perWorker().find((row) => row.slot === slot);
          assert.equal(workerRow?.requests, expected[slot].requests);
          assert.equal(workerRow?.errors, expected[slot].errors);
        }
      }),
      { numRuns: 300 },
    );
  });

  void it('refuses a report that does not fit: negative, fractional, wrong lengths, buckets out of range', () => {
    const metrics = new ProxyMetrics();
    metrics.record('blue', 200, 0.01, false);
    const good = JSON.parse(JSON.stringify(overTheWire(metrics, new ProxyMetrics().snapshot()).event)) as {
      slots: { blue: Record<string, unknown> };
    };
    assert.equal(countsEvent.safeParse(good).success, true);
    const broken: [string, unknown][] = [
      ['requests', -1],
      ['requests', 1.5],
      ['requests', '1'],
      ['errors', Number.NaN],
      ['latencySecondsSum', -0.1],
      ['latencyBuckets', [1, 2, 3]],
      ['latencyBuckets', new Array(16).fill(-1)],
      ['fineLatency', [[290, 1]]],
      ['fineLatency', [[-1, 1]]],
      ['fineLatency', [[3, -1]]],
      ['fineLatency', new Array(291).fill([0, 1])],
      ['statusClasses', [0, 0, 1]],
      ['cuts', { refused: 1 }],
      ['mirrored', null],
    ];
    for (const [field, value] of broken) {
      const copy = structuredClone(good);
      copy.slots.blue[field] = value;
      assert.equal(
        countsEvent.safeParse(copy).success,
        false,
        `${field}: ${JSON.stringify(value)?.slice(0, 40)}`,
      );
    }
  });
});

void describe('the control client reading a worker’s pushed lines', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-counts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A stand-in worker: answers hello, then pushes `lines`. */
  async function pushing(name: string, lines: string[]) {
    const socketPath = path.join(dir, name);
    const server = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        const { id } = JSON.parse(chunk.toString('utf8')) as { id: number };
        const hello = {
          version: WORKER_PROTOCOL_VERSION,
          pid: 1,
          code: 'x',
          generation: 0,
          initialised: true,
          listening: {},
        };
        socket.write(`${JSON.stringify({ id, ok: true, result: hello })}\n`);
        for (const line of lines) socket.write(`${line}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const reports: WorkerCountsReport[] = [];
    const { client } = await ControlClient.connect(socketPath, (event) => reports.push(event));
    const closed = new Promise<boolean>((resolve) => {
      client.onClose(() => resolve(true));
      setTimeout(() => resolve(false), 300).unref();
    });
    const wasClosed = await closed;
    client.close();
    await new Promise((resolve) => server.close(resolve));
    return { reports, wasClosed };
  }

  const metrics = new ProxyMetrics();
  metrics.record('green', 503, 0.2, true);
  const report = JSON.stringify(overTheWire(metrics, new ProxyMetrics().snapshot()).event);

  void it('passes on a counts report, skips an event it does not know, and keeps the connection', async () => {
    const { reports, wasClosed } = await pushing('known.sock', [
      JSON.stringify({ event: 'from-a-newer-worker', anything: [1, 2] }),
      report,
    ]);
    assert.equal(wasClosed, false);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.event === 'counts' && reports[0].slots.green.proxyErrors, 1);
  });

  void it('ends the connection on a counts report that does not fit, never passing it on', async () => {
    const bad = report.replace('"proxyErrors":1', '"proxyErrors":-5');
    assert.notEqual(bad, report);
    const { reports, wasClosed } = await pushing('bad.sock', [bad]);
    assert.equal(wasClosed, true);
    assert.deepEqual(reports, []);
  });

  void it('still reads the per-request reports of workers of an earlier cutover', async () => {
    const legacy = {
      event: 'metrics',
      completed: [['blue', 200, 0.01, false, null]],
      mirrored: { blue: [0, 0], green: [0, 0] },
      refused: { live: 0, preview: 0 },
    };
    const { reports, wasClosed } = await pushing('legacy.sock', [JSON.stringify(legacy)]);
    assert.equal(wasClosed, false);
    assert.equal(reports[0]?.event, 'metrics');
  });
});
