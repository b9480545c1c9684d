import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { makeCertificate } from './support/certificate.js';
import { openRouter, target } from './support/proxy-fixture.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.js';

/**
 * Sends a request head announcing `length` body bytes, then `piece` bytes every `everyMs` until
 * the proxy closes the connection or the body is all sent. Resolves with what the proxy answered.
 */
function sendBodySlowly(port: number, length: number, piece: number, everyMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer arrived still leaves the answer to judge.
      if (answer === '') reject(error);
    });
    socket.write(`POST /upload HTTP/1.1\r\nHost: body.test\r\nContent-Length: ${length}\r\n\r\n`);
    // The trickle is the scenario under test, not a wait for something.
    const ticker = setInterval(() => {
      if (socket.destroyed || sent >= length) return;
      const size = Math.min(piece, length - sent);
      sent += size;
      socket.write('x'.repeat(size));
      if (sent >= length) {
        clearInterval(ticker);
        socket.end();
      }
    }, everyMs);
    socket.on('close', () => {
      clearInterval(ticker);
      resolve(answer);
    });
  });
}

void describe('proxy request body limits', () => {
  let upstream: RecordingUpstream;
  before(async () => {
    upstream = await startRecordingUpstream();
  });
  after(async () => upstream.close());

  async function routerWith(config: Record<string, unknown>): Promise<BuiltinRouter> {
    const router = await openRouter(config);
    await router.prepare({ blue: [target('b1', upstream.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
    return router;
  }

  void it(
    'answers 408 with Connection: close to a body trickling under bodyMinRate, and closes the upstream connection mid-body',
    { timeout: 20_000 },
    async () => {
      const router = await routerWith({ bodyMinRate: 1000, bodyRateWindow: '1s', bodyTimeout: '1m' });
      try {
        const before = upstream.closes.length;
        // One byte every 200 ms: 5 bytes/s against a minimum of 1000.
        const answer = await sendBodySlowly(router.address().live.port, 1_000_000, 1, 200);
        assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
        assert.match(answer, /\r\nConnection: close\r\n/i);
        assert.match(answer, /slower than 1000 bytes\/s/);
        // The upstream exchange is aborted, not left holding half a body for the next request.
        assert.equal(upstream.closes.length, before + 1, 'the request reached the upstream');
        const seen = await upstream.closes[before]!;
        assert.match(seen, /^POST \/upload HTTP\/1\.1\r\n/);
      } finally {
        await router.close();
      }
    },
  );

  void it(
    'answers 408 to a body that keeps the rate but misses bodyTimeout for the whole body',
    { timeout: 20_000 },
    async () => {
      const router = await routerWith({ bodyMinRate: 0, bodyTimeout: '1500ms' });
      try {
        const before = upstream.closes.length;
        // 1,000 bytes/s, forever: only the whole-body deadline ends it.
        const answer = await sendBodySlowly(router.address().live.port, 1_000_000, 100, 100);
        assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
        assert.match(answer, /\r\nConnection: close\r\n/i);
        assert.match(answer, /did not arrive within 1500 ms/);
        await upstream.closes[before]!;
      } finally {
        await router.close();
      }
    },
  );

  void it(
    'forwards a slow body that keeps bodyMinRate, through more than one rate window',
    { timeout: 20_000 },
    async () => {
      const router = await routerWith({ bodyMinRate: 100, bodyRateWindow: '1s', bodyTimeout: '1m' });
      try {
        // 500 bytes/s for 3 s, over the 100 bytes/s minimum.
        const answer = await sendBodySlowly(router.address().live.port, 1_500, 50, 100);
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(answer, /\r\n\r\nok$/);
      } finally {
        await router.close();
      }
    },
  );

  void it(
    'gives a body its first rate window as a grace before the first bytes',
    { timeout: 20_000 },
    async () => {
      const router = await routerWith({ bodyMinRate: 1000, bodyRateWindow: '1s', bodyTimeout: '1m' });
      try {
        const socket = net.connect(router.address().live.port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.write('POST /upload HTTP/1.1\r\nHost: body.test\r\nContent-Length: 3000\r\n\r\n');
        // Silent past the first window (1 s) but not the second, then the whole body at once:
        // without the grace the first window's check would refuse it.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        socket.end('y'.repeat(3000));
        await new Promise((resolve) => socket.on('close', resolve));
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        await router.close();
      }
    },
  );
  void it(
    'does not hold against the client the time the proxy stops reading it because the upstream is slow',
    { timeout: 30_000 },
    async () => {
      const size = 16 * 1024 * 1024;
      let upstreamSocket: net.Socket | undefined;
      const slow = net.createServer((socket) => {
        upstreamSocket = socket;
        socket.on('error', () => undefined);
        let received = 0;
        socket.once('data', (first: Buffer) => {
          received = first.length - (first.indexOf('\r\n\r\n') + 4);
          // Reads nothing more until the test says: the proxy must stop reading the client.
          socket.pause();
          socket.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received >= size) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          });
        });
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      const router = await openRouter({ bodyMinRate: 1000, bodyRateWindow: '1s', bodyTimeout: '1m' });
      try {
        await router.prepare({ blue: [target('slow', (slow.address() as net.AddressInfo).port)], green: [] });
        await router.setWeights({ blue: 100, green: 0 });
        const client = net.connect(router.address().live.port, '127.0.0.1');
        let answer = '';
        client.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        client.on('error', () => undefined);
        const closed = new Promise((resolve) => client.on('close', resolve));
        client.write(`POST /upload HTTP/1.1\r\nHost: body.test\r\nContent-Length: ${size}\r\n\r\n`);
        // The whole body at once: far more than the sockets between here and the upstream hold.
        client.end(Buffer.alloc(size, 120));
        await waitFor(() => upstreamSocket !== undefined, { what: 'the upstream connection' });
        // Three rate windows pass with the client's bytes waiting on the proxy, not on the client.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        assert.equal(answer, '', 'the proxy answered while it was the one not reading');
        upstreamSocket!.resume();
        await closed;
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        await router.close();
        upstreamSocket?.destroy();
        await new Promise((resolve) => slow.close(resolve));
      }
    },
  );
  void describe('on the TLS listener', () => {
    let dir: string;
    let router: BuiltinRouter;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-body-tls-'));
      router = await routerWith({
        tls: makeCertificate(dir),
        bodyMinRate: 1000,
        bodyRateWindow: '1s',
        bodyTimeout: '1m',
      });
    });
    after(async () => {
      await router.close();
      await rm(dir, { recursive: true, force: true });
    });

    void it(
      'answers 408 with Connection: close to an HTTP/1.1 body trickling under bodyMinRate, and closes the upstream connection',
      { timeout: 20_000 },
      async () => {
        const before = upstream.closes.length;
        const socket = tls.connect({
          port: router.address().live.port,
          host: '127.0.0.1',
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
        });
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.on('error', () => undefined);
        const closed = new Promise((resolve) => socket.on('close', resolve));
        await new Promise((resolve) => socket.once('secureConnect', resolve));
        socket.write('POST /upload HTTP/1.1\r\nHost: body.test\r\nContent-Length: 1000000\r\n\r\n');
        // One byte every 200 ms: the trickle under test.
        const ticker = setInterval(() => socket.write('x'), 200);
        try {
          await closed;
        } finally {
          clearInterval(ticker);
        }
        assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
        assert.match(answer, /\r\nConnection: close\r\n/i);
        assert.match(answer, /slower than 1000 bytes\/s/);
        assert.match(await upstream.closes[before]!, /^POST \/upload HTTP\/1\.1\r\n/);
      },
    );

    void it(
      'answers 408 to an HTTP/2 body trickling under bodyMinRate, and closes the upstream connection',
      { timeout: 20_000 },
      async () => {
        const before = upstream.closes.length;
        const session = http2.connect(`https://127.0.0.1:${router.address().live.port}`, {
          rejectUnauthorized: false,
        });
        session.on('error', () => undefined);
        try {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/upload',
            'content-length': '1000000',
          });
          stream.on('error', () => undefined);
          const closed = new Promise((resolve) => stream.on('close', resolve));
          const ticker = setInterval(() => stream.write('x'), 200);
          let body = '';
          stream.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          const status = await new Promise<number>((resolve) =>
            stream.on('response', (headers) => resolve(Number(headers[':status']))),
          );
          await closed;
          clearInterval(ticker);
          assert.equal(status, 408);
          assert.match(body, /slower than 1000 bytes\/s/);
          assert.match(await upstream.closes[before]!, /^POST \/upload HTTP\/1\.1\r\n/);
        } finally {
          session.destroy();
        }
      },
    );
  });
});
