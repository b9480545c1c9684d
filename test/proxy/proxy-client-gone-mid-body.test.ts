import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { countsSince } from '../../src/proxy/counts-delta.js';
import { ProxyMetrics, type SlotCounters } from '../../src/proxy/metrics.js';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { startBodyRecordingUpstream, type BodyRecordingUpstream } from './support/body-recording-upstream.js';
import { makeCertificate } from './support/certificate.js';
import { openRouter, target } from './support/proxy-fixture.js';

/**
 * A client that goes away in the middle of its request body (an HTTP/2 stream reset, an
 * HTTP/1 connection closed) must never make the upstream see a whole request: node:http2 ends
 * a request's body when its stream closes, reset or not, and a chunked body ended there would
 * get its last chunk and be served truncated. The upstream connection carrying the half-sent
 * body closes, and the exchange is recorded as cut by the client.
 */

const FIRST_PART = 'first-part-of-the-body';
type Framing = 'chunked' | 'content-length';

void describe('a client that goes away mid-body', () => {
  let upstream: BodyRecordingUpstream;
  let dir: string;
  let plain: BuiltinRouter;
  let secure: BuiltinRouter;
  let buffering: BuiltinRouter;
  /** What the routers' workers reported for blue so far (every exchange here goes to blue). */
  const recorded = (): SlotCounters[] =>
    [plain, secure, buffering].map((router) => router.metrics.snapshot().blue);
  const refreshed = async (): Promise<void> => {
    await Promise.all([plain, secure, buffering].map((router) => router.refreshMetrics()));
  };
  /** The exchanges recorded since `before` (from recorded()), summed over the routers. */
  const recordedSince = (before: SlotCounters[]): SlotCounters => {
    const sum = new ProxyMetrics();
    recorded().forEach((now, index) => sum.add('blue', countsSince(now, before[index]!)));
    return sum.snapshot().blue;
  };

  async function routerWith(config: Record<string, unknown>): Promise<BuiltinRouter> {
    const router = await openRouter(config);
    await router.prepare({ blue: [target('b1', upstream.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
    return router;
  }

  before(async () => {
    upstream = await startBodyRecordingUpstream();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-gone-mid-body-'));
    plain = await routerWith({});
    secure = await routerWith({ tls: makeCertificate(dir) });
    buffering = await routerWith({
      tls: makeCertificate(dir),
      requestBuffering: { maxBodyBytes: 1_000_000 },
    });
  });
  after(async () => {
    await plain.close();
    await secure.close();
    await buffering.close();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits until the upstream connection opened after `before` has the body's first part. */
  async function bodyStartedUpstream(before: number): Promise<void> {
    await waitFor(() => upstream.connections[before]?.bytes.includes(FIRST_PART) === true, {
      what: 'the first part of the body at the upstream',
    });
  }

  /** The upstream connection saw no whole request, no last chunk, and was closed; the exchange was recorded as cut. */
  async function assertCutUpstream(
    before: number,
    recordsBefore: SlotCounters[],
    framing: Framing,
  ): Promise<void> {
    const connection = upstream.connections[before]!;
    await waitFor(() => connection.closed, { what: 'the upstream connection to close', timeoutMs: 5_000 });
    assert.equal(upstream.connections.length, before + 1, 'one upstream connection');
    assert.match(connection.bytes, /^POST \/upload HTTP\/1\.1\r\n/);
    assert.equal(connection.wholeRequests, 0, `the upstream received a whole request:\n${connection.bytes}`);
    if (framing === 'chunked') {
      assert.match(connection.bytes, /\r\nTransfer-Encoding: chunked\r\n/i);
      assert.doesNotMatch(connection.bytes, /\r\n0\r\n\r\n$/, 'the body was closed with a last chunk');
    }
    await waitFor(
      async () => {
        await refreshed();
        return recordedSince(recordsBefore).requests > 0;
      },
      { what: 'the exchange to be recorded' },
    );
    const record = recordedSince(recordsBefore);
    assert.equal(record.requests, 1);
    assert.deepEqual(record.statusClasses, [0, 0, 0, 0, 1, 0], 'recorded as 4xx (499)');
    assert.deepEqual(record.cuts, { 'client-closed': 0, 'client-body-incomplete': 1, refused: 0 });
  }

  for (const framing of ['chunked', 'content-length'] as const) {
    // node:http2's client resets a stream without ending it (no END_STREAM) by destroy(): with
    // NO_ERROR, with an error (INTERNAL_ERROR), or through its abort signal (CANCEL).
    for (const how of ['NO_ERROR', 'INTERNAL_ERROR', 'CANCEL'] as const) {
      void it(
        `never completes a ${framing} body upstream when an HTTP/2 client resets its stream (${how}) mid-body, and closes that upstream connection`,
        { timeout: 20_000 },
        async () => {
          const before = upstream.connections.length;
          const recordsBefore = recorded();
          const session = http2.connect(`https://127.0.0.1:${secure.address().live.port}`, {
            rejectUnauthorized: false,
          });
          session.on('error', () => undefined);
          try {
            const headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': '/upload' };
            if (framing === 'content-length') headers['content-length'] = '100000';
            const abort = new AbortController();
            const stream = session.request(headers, { signal: abort.signal });
            stream.on('error', () => undefined);
            const reset = new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
            stream.write(FIRST_PART);
            await bodyStartedUpstream(before);
            if (how === 'NO_ERROR') stream.destroy();
            else if (how === 'INTERNAL_ERROR') stream.destroy(new Error('the client gives up'));
            else abort.abort();
            assert.equal(await reset, http2.constants[`NGHTTP2_${how}`]);
            await assertCutUpstream(before, recordsBefore, framing);
          } finally {
            session.destroy();
          }
        },
      );
    }

    void it(
      `never completes a ${framing} body upstream when an HTTP/2 client's whole connection goes away mid-body`,
      { timeout: 20_000 },
      async () => {
        const before = upstream.connections.length;
        const recordsBefore = recorded();
        const session = http2.connect(`https://127.0.0.1:${secure.address().live.port}`, {
          rejectUnauthorized: false,
        });
        session.on('error', () => undefined);
        const headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': '/upload' };
        if (framing === 'content-length') headers['content-length'] = '100000';
        const stream = session.request(headers);
        stream.on('error', () => undefined);
        stream.write(FIRST_PART);
        await bodyStartedUpstream(before);
        session.destroy();
        await assertCutUpstream(before, recordsBefore, framing);
      },
    );

    if (framing === 'content-length')
      void it(
        'never completes a content-length body upstream when an HTTP/2 client ends its stream before the length and resets it, and closes that upstream connection',
        { timeout: 20_000 },
        async () => {
          const before = upstream.connections.length;
          const recordsBefore = recorded();
          const session = http2.connect(`https://127.0.0.1:${secure.address().live.port}`, {
            rejectUnauthorized: false,
          });
          session.on('error', () => undefined);
          try {
            const stream = session.request({
              ':method': 'POST',
              ':path': '/upload',
              'content-length': '100000',
            });
            stream.on('error', () => undefined);
            stream.write(FIRST_PART);
            await bodyStartedUpstream(before);
            // close() sends END_STREAM (the body ends short of its length), then RST_STREAM.
            stream.close(http2.constants.NGHTTP2_CANCEL);
            await assertCutUpstream(before, recordsBefore, framing);
          } finally {
            session.destroy();
          }
        },
      );

    for (const listener of ['plain', 'TLS'] as const) {
      for (const how of ['closes', 'half-closes'] as const) {
        void it(
          `never completes a ${framing} body upstream when an HTTP/1.1 client ${how} its connection mid-body (${listener} listener), and closes that upstream connection`,
          { timeout: 20_000 },
          async () => {
            const before = upstream.connections.length;
            const recordsBefore = recorded();
            const socket =
              listener === 'plain'
                ? net.connect(plain.address().live.port, '127.0.0.1')
                : tls.connect({
                    port: secure.address().live.port,
                    host: '127.0.0.1',
                    rejectUnauthorized: false,
                    ALPNProtocols: ['http/1.1'],
                  });
            socket.on('error', () => undefined);
            await new Promise((resolve) =>
              socket.once(listener === 'plain' ? 'connect' : 'secureConnect', resolve),
            );
            const framingLine =
              framing === 'chunked' ? 'Transfer-Encoding: chunked' : 'Content-Length: 100000';
            const firstPart =
              framing === 'chunked' ? `${FIRST_PART.length.toString(16)}\r\n${FIRST_PART}\r\n` : FIRST_PART;
            socket.write(`POST /upload HTTP/1.1\r\nHost: gone.test\r\n${framingLine}\r\n\r\n${firstPart}`);
            await bodyStartedUpstream(before);
            if (how === 'closes') socket.destroy();
            else socket.end();
            try {
              await assertCutUpstream(before, recordsBefore, framing);
            } finally {
              socket.destroy();
            }
          },
        );
      }
    }
  }
  void it(
    'does not route a buffered HTTP/2 body whose client reset its stream before the body ended',
    { timeout: 20_000 },
    async () => {
      const before = upstream.connections.length;
      const recordsBefore = recorded();
      const session = http2.connect(`https://127.0.0.1:${buffering.address().live.port}`, {
        rejectUnauthorized: false,
      });
      session.on('error', () => undefined);
      try {
        // Held whole by the proxy (no upstream yet), then reset with RST_STREAM(NO_ERROR).
        const stream = session.request({ ':method': 'POST', ':path': '/upload' });
        stream.on('error', () => undefined);
        const closed = new Promise((resolve) => stream.on('close', resolve));
        stream.write(FIRST_PART, () => stream.destroy());
        await closed;
        // A whole request after it: were the reset one routed, it would be recorded before this one.
        const next = session.request({ ':method': 'POST', ':path': '/next' });
        next.end('whole');
        next.resume();
        const status = await new Promise<number>((resolve) =>
          next.on('response', (headers) => resolve(Number(headers[':status']))),
        );
        assert.equal(status, 200);
        await waitFor(() => recordedSince(recordsBefore).requests > 0, {
          what: 'the second request to be recorded',
        });
        await refreshed(); // a report after the whole one would show the reset one
        assert.deepEqual(
          recordedSince(recordsBefore).statusClasses,
          [0, 0, 1, 0, 0, 0],
          'only the whole request was forwarded (one 2xx)',
        );
        const seen = upstream.connections.slice(before).map((connection) => connection.bytes);
        assert.ok(
          seen.every((bytes) => !bytes.includes(FIRST_PART)),
          `the reset body reached the upstream:\n${seen.join('\n---\n')}`,
        );
      } finally {
        session.destroy();
      }
    },
  );
});
